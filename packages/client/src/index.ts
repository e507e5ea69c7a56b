/**
 * @ofa-entail/client: the typed SDK and the wire format of ofa-entail (request envelope, verdicts, error catalogue,
 * subjects, headers). The service imports the same modules, so there is one source of the protocol.
 */
export { OfaClient, ClassifyError, type ClassifyOptions, type ClassifyManyOptions, type ClientOptions } from "./client.ts";
export * from "./errors.ts";
export * from "./headers.ts";
export * from "./subjects.ts";
export * from "./envelope.ts";
export * from "./verdict.ts";
export * from "./verdict-store.ts";
export * from "./publish.ts";
