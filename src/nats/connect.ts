/**
 * The NATS connection from config: servers, one auth method (user/password, token, nkey seed file or creds file),
 * optional TLS. Reconnects forever: a worker outlives a broker restart and resumes where JetStream left it.
 */
import { readFileSync } from "node:fs";
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from "@nats-io/transport-node";
import { withoutUserinfo, type Config } from "../config/index.ts";
import { ErrorCode, OfaError } from "../protocol/errors.ts";
import { isRefusedClientCertificate } from "../errors/classify-nats.ts";

function connectionOptions(config: Config, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: [...config.natsUrl],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
  };
  if (config.natsInboxPrefix !== undefined) opts.inboxPrefix = config.natsInboxPrefix;
  if (config.natsUser !== undefined) Object.assign(opts, { user: config.natsUser, pass: config.natsPassword });
  if (config.natsToken !== undefined) opts.token = config.natsToken;
  if (config.natsNkeySeedFile !== undefined) {
    const seed = new TextEncoder().encode(readFileSync(config.natsNkeySeedFile, "utf8").trim());
    opts.authenticator = nkeyAuthenticator(seed);
  }
  if (config.natsCredsFile !== undefined) opts.authenticator = credsAuthenticator(readFileSync(config.natsCredsFile));
  if (config.natsTlsCaFile !== undefined || config.natsTlsCertFile !== undefined) {
    opts.tls = {
      ...(config.natsTlsCaFile ? { caFile: config.natsTlsCaFile } : {}),
      ...(config.natsTlsCertFile ? { certFile: config.natsTlsCertFile, keyFile: config.natsTlsKeyFile } : {}),
    };
  }
  return opts;
}

/** Connects once (no retry on the first attempt); a wrong credential or certificate fails here, clearly. */
export async function connectNats(config: Config, name: string): Promise<NatsConnection> {
  const opts = connectionOptions(config, name);
  try {
    // A TLS 1.3 server refuses a missing or untrusted client certificate only after the handshake; nats.js then
    // retries in silence and fails after its 20 s timeout with just "timeout". A first connection without reconnects
    // surfaces the real cause at once (e.g. "alert bad certificate"); it is closed before the long-lived one opens.
    if (opts.tls) await (await connect({ ...opts, reconnect: false })).close();
    return await connect(opts);
  } catch (err) {
    const reason = err instanceof Error ? err.message.trim() : String(err);
    // The server drops a refused client certificate with an alert, or (racing it) a reset.
    const hint = opts.tls && isRefusedClientCertificate(err)
      ? " (if the server verifies client certificates, check OFA_NATS_TLS_CERT / OFA_NATS_TLS_KEY and that its CA signed them)"
      : "";
    throw new OfaError(ErrorCode.INTERNAL, `cannot connect to NATS at ${config.natsUrl.map((u) => withoutUserinfo(u)).join(",")}: ${reason}${hint}`, { cause: err });
  }
}

/** Follows a connection until it closes: `onChange(false)` on each disconnect, `onChange(true)` on each reconnect. */
export async function watchConnection(nc: Pick<NatsConnection, "status">, onChange: (up: boolean) => void): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") onChange(false);
    else if (s.type === "reconnect") onChange(true);
  }
}
