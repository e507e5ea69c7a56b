/**
 * The AsyncAPI 3 document of the message interface, generated from the same schemas the code validates with,
 * so it cannot drift (docs/asyncapi.json is this output, checked by a test). Served by the admin port.
 */
import { DLQ_SUBJECTS, Header, LANES, SERVICE_SUBJECT, requestSubject } from "@ofa-entail/client/source";
import { DeadLetterSchema } from "./dead-letter.ts";
import { ERROR_SPECS } from "./errors.ts";
import { RequestSchema } from "./request.ts";
import { VerdictSchema } from "./verdict.ts";

const plain = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema));

export function asyncApiDocument(version: string): Record<string, unknown> {
  const requestHeaders = {
    type: "object",
    properties: {
      [Header.MsgId]: { type: "string", maxLength: 128, description: "request id and JetStream de-duplication id: 1–128 characters, no control characters (else OFA_ERR_REQUEST_ID)" },
      [Header.ReplyTo]: { type: "string", maxLength: 256, description: "subject the verdict is published to (core NATS): a concrete subject on the allow-list OFA_REPLY_SUBJECTS, default _INBOX.> (else OFA_ERR_REPLY_SUBJECT and no reply)" },
      [Header.Deadline]: { type: "string", pattern: "^[0-9]{1,16}$", description: "absolute deadline, whole ms since the Unix epoch, at most 253402300799999 (else OFA_ERR_DEADLINE_INVALID)" },
      [Header.Version]: { type: "string", description: "envelope version" },
    },
  };
  const verdictHeaders = {
    type: "object",
    properties: {
      [Header.ServiceError]: { type: "string", description: "error message (error verdicts only)" },
      [Header.ServiceErrorCode]: { type: "string", description: "HTTP-like status (error verdicts only)" },
      [Header.ErrorCode]: { type: "string", enum: Object.keys(ERROR_SPECS), description: "stable error code" },
      [Header.RequestHash]: { type: "string", description: "sha256 (hex) of the request payload this verdict answers: a repeated id with another payload gets OFA_ERR_ID_CONFLICT" },
    },
  };
  const channels: Record<string, unknown> = {};
  for (const lane of LANES) {
    channels[`request-${lane}`] = { address: requestSubject(lane), description: `requests in the ${lane} lane (stream OFA_VE_REQ)`, messages: { request: { $ref: "#/components/messages/request" } } };
  }
  channels.verdict = { address: "ofa.ve.verdict.{requestId}", parameters: { requestId: { description: "the request id when it is 1–128 characters of [A-Za-z0-9_-], else `=` and the base64url sha256 of the id" } }, messages: { verdict: { $ref: "#/components/messages/verdict" } } };
  channels.reply = { address: null, description: "the caller's Ofa-Reply-To subject", messages: { verdict: { $ref: "#/components/messages/verdict" } } };
  channels.classify = { address: SERVICE_SUBJECT, description: "core request-reply front door (NATS services framework); the reply is the verdict", messages: { request: { $ref: "#/components/messages/request" }, verdict: { $ref: "#/components/messages/verdict" } } };
  channels.deadLetters = { address: DLQ_SUBJECTS.replace(">", "{code}"), parameters: { code: { description: "OFA_ERR_* code" } }, messages: { deadLetter: { $ref: "#/components/messages/deadLetter" } } };
  return {
    asyncapi: "3.0.0",
    info: { title: "ofa-entail", version, description: "Visual entailment (does this image entail this text?) over NATS JetStream." },
    defaultContentType: "application/json",
    channels,
    operations: {
      sendRequest: { action: "send", channel: { $ref: "#/channels/request-interactive" }, reply: { channel: { $ref: "#/channels/reply" } } },
      sendBulkRequest: { action: "send", channel: { $ref: "#/channels/request-bulk" } },
      receiveVerdict: { action: "receive", channel: { $ref: "#/channels/verdict" } },
      classify: { action: "send", channel: { $ref: "#/channels/classify" }, reply: { channel: { $ref: "#/channels/classify" } } },
      receiveDeadLetter: { action: "receive", channel: { $ref: "#/channels/deadLetters" } },
    },
    components: {
      messages: {
        request: { name: "request", headers: requestHeaders, payload: plain(RequestSchema) },
        verdict: { name: "verdict", headers: verdictHeaders, payload: plain(VerdictSchema) },
        deadLetter: { name: "deadLetter", payload: plain(DeadLetterSchema) },
      },
    },
  };
}
