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
import type { Config } from "../config/index.ts";
import { ErrorCode, OfaError } from "../protocol/errors.ts";

export function connectionOptions(config: Config, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: [...config.natsUrl],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
  };
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
  try {
    return await connect(connectionOptions(config, name));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new OfaError(ErrorCode.INTERNAL, `cannot connect to NATS at ${config.natsUrl.join(",")}: ${reason}`, { cause: err });
  }
}
