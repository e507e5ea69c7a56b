/** Header names on the wire (`as const`, like nats.js PubHeaders). */
export const Header = {
  /** JetStream de-duplication id; ofa-entail also uses it as the request id. */
  MsgId: "Nats-Msg-Id",
  /** Where the caller listens for its verdict (core NATS subject, usually an inbox). */
  ReplyTo: "Ofa-Reply-To",
  /** Absolute deadline, milliseconds since the Unix epoch. Past it the model is not run. */
  Deadline: "Ofa-Deadline",
  /** Priority lane for requests through the core request-reply front door: "interactive" (default) or "bulk". */
  Lane: "Ofa-Lane",
  /** Envelope version of the payload, e.g. "1". */
  Version: "Ofa-Version",
  /** NATS-micro error pair on error verdicts, understood by generic NATS clients. */
  ServiceError: "Nats-Service-Error",
  ServiceErrorCode: "Nats-Service-Error-Code",
  /** On verdicts: sha256 (hex) of the request payload they answer, to tell a repeated id from a conflicting one. */
  RequestHash: "Ofa-Request-Sha256",
  /** Stable OFA_ERR_* code on error verdicts. */
  ErrorCode: "Ofa-Error-Code",
} as const;
export type Header = (typeof Header)[keyof typeof Header];

