export { OfaClient, ClassifyError, type ClassifyOptions, type ClientOptions } from "./client.ts";
export { IMAGE_BUCKET } from "../protocol/subjects.ts";
