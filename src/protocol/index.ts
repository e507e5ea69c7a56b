export * from "./errors.ts";
export * from "./subjects.ts";
export * from "./headers.ts";
export * from "./request.ts";
export * from "./hypotheses.ts";
export * from "./verdict.ts";
export * from "./dead-letter.ts";
export * from "./asyncapi.ts";
