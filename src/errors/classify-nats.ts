/**
 * What a nats.js (@nats-io/* 3.x) failure *is*. A publish failure's kind is decided in the client package
 * (packages/client/src/publish.ts) and re-exported here; the connection's own question stays here: a refused TLS
 * client certificate reaches us as the Node socket error nats.js wraps or copies.
 */
import { errors } from "@nats-io/transport-node";
import { errorChain } from "@ofa-entail/client/source";

// What a publish failure is (full, too large, transient) is the client package's: the SDK and the front door share it.
export {   classifyNatsError, publishFailureCode,  } from "@ofa-entail/client/source";

/** A request that got no answer in time (the broker, or JetStream behind it, did not answer). */
export function isTimeout(err: unknown): boolean {
  return errorChain(err).some((e) => e instanceof errors.TimeoutError);
}

/** Node's TLS codes for a client certificate the server refused (or the reset that races the alert). */
const REFUSED_CLIENT_CERT_CODE = /^(ERR_SSL_\w*ALERT_(BAD|UNKNOWN)_CERTIFICATE|ERR_SSL_\w*ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/;
const REFUSED_CLIENT_CERT_TEXT = /alert (bad|unknown) certificate|certificate required|ECONNRESET/i;

/** True when a failed connect looks like the server refusing our client certificate. */
export function isRefusedClientCertificate(err: unknown): boolean {
  for (const e of errorChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && REFUSED_CLIENT_CERT_CODE.test(code)) return true;
  }
  // nats.js 3.4 copies the socket error's text into its own ConnectionError and drops the code.
  return errorChain(err).some((e) => e instanceof Error && REFUSED_CLIENT_CERT_TEXT.test(e.message));
}
