// The wire names, the stored-verdict reads and the publish helpers are the client package's; the service's own
// parts of the protocol (validation, limits, trust, dead letters, the AsyncAPI document) are the files below.
export {
  CACHE_BUCKET,
  
  Header,
  IMAGE_BUCKET,
  LANES,
  Lane,
  REQUEST_SUBJECTS,
  SERVICE_NAME,
  SERVICE_SUBJECT,
  STREAMS,
  
  consumerName,
  deadLetterSubject,
  requestSubject,
  sameRequest,
  storedVerdict,
  subjectToken,
  verdictSubject,
  
  
} from "@ofa-entail/client/source";
export * from "./errors.ts";
export * from "./request.ts";
export * from "./hypotheses.ts";
export * from "./verdict.ts";
export * from "./dead-letter.ts";
export * from "./asyncapi.ts";
export * from "./trust.ts";
