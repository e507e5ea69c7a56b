export { OfaClient, ClassifyError, type ClassifyOptions, type ClassifyManyOptions, type ClientOptions } from "./client.ts";
export { IMAGE_BUCKET } from "../protocol/subjects.ts";
