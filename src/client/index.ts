export { OfaClient, ClassifyError, IMAGE_BUCKET, type ClassifyOptions, type ClientOptions } from "./client.ts";
