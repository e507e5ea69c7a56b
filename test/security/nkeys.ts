/**
 * NATS identities for the auth tests, made with the nkeys library nats.js ships (@nats-io/transport-node re-exports
 * it): a plain user nkey, and a decentralised-auth ("operator mode") setup — operator, system account, one account
 * with JetStream, one user — whose user JWT and seed make a .creds file.
 * JWTs are built here by hand, following the NATS JWT v2 layout: base64url(header).base64url(claims).base64url(sig),
 * header {"typ":"JWT","alg":"ed25519-nkey"}, signed with the issuer's nkey; claims carry iss, sub, iat, jti and a
 * `nats` object whose `type` says what the token is (operator, account or user).
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";

type KeyPair = ReturnType<typeof nkeys.createUser>;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const b64url = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");

/** A user nkey: the server knows the public key (U…), the client holds the seed (SU…). */
export function userNkey(): { publicKey: string; seed: string } {
  const kp = nkeys.createUser();
  return { publicKey: kp.getPublicKey(), seed: text(kp.getSeed()) };
}

function encodeJwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  claims.jti = createHash("sha256").update(JSON.stringify(claims)).digest("hex").toUpperCase();
  const signingInput = `${b64url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }))}.${b64url(JSON.stringify(claims))}`;
  return `${signingInput}.${b64url(issuer.sign(new TextEncoder().encode(signingInput)))}`;
}

/** -1 = unlimited; a non-zero storage limit is what enables JetStream for the account. */
const UNLIMITED_ACCOUNT = {
  subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1,
  mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1,
};

export interface OperatorSetup {
  /** Top-level nats-server config: trusted operator, system account, in-memory account resolver. */
  readonly serverConf: string;
  /** A .creds file for a user of the JetStream-enabled account. */
  readonly credsFile: string;
  /** The user's seed, which is inside credsFile: a secret. */
  readonly userSeed: string;
  /** A .creds file for a user the server has never heard of (its account is not trusted). */
  readonly strangerCredsFile: string;
}

function credsFileText(userJwt: string, userSeed: string): string {
  return [
    "-----BEGIN NATS USER JWT-----", userJwt, "------END NATS USER JWT------", "",
    "************************* IMPORTANT *************************",
    "NKEY Seed printed below can be used to sign and prove identity.", "",
    "-----BEGIN USER NKEY SEED-----", userSeed, "------END USER NKEY SEED------", "",
  ].join("\n");
}

function accountAndUser(operator: KeyPair, name: string): { account: KeyPair; accountJwt: string; userJwt: string; userSeed: string } {
  const account = nkeys.createAccount();
  const accountJwt = encodeJwt(operator, account.getPublicKey(), name, { type: "account", limits: UNLIMITED_ACCOUNT });
  const user = nkeys.createUser();
  const userJwt = encodeJwt(account, user.getPublicKey(), `${name}-user`, { type: "user", pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
  return { account, accountJwt, userJwt, userSeed: text(user.getSeed()) };
}

export async function operatorSetup(dir: string): Promise<OperatorSetup> {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount();
  const operatorJwt = encodeJwt(operator, operator.getPublicKey(), "ofa-test-operator", { type: "operator", system_account: system.getPublicKey() });
  const systemJwt = encodeJwt(operator, system.getPublicKey(), "SYS", { type: "account", limits: { ...UNLIMITED_ACCOUNT, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 } });
  const app = accountAndUser(operator, "ofa-app");
  const stranger = accountAndUser(nkeys.createOperator(), "stranger");

  const operatorFile = join(dir, "operator.jwt");
  await writeFile(operatorFile, operatorJwt);
  const credsFile = join(dir, "ofa-app.creds");
  await writeFile(credsFile, credsFileText(app.userJwt, app.userSeed), { mode: 0o600 });
  const strangerCredsFile = join(dir, "stranger.creds");
  await writeFile(strangerCredsFile, credsFileText(stranger.userJwt, stranger.userSeed), { mode: 0o600 });
  const serverConf = [
    `operator: "${operatorFile}"`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    "resolver_preload: {",
    `  ${system.getPublicKey()}: "${systemJwt}"`,
    `  ${app.account.getPublicKey()}: "${app.accountJwt}"`,
    "}",
  ].join("\n");
  return { serverConf, credsFile, userSeed: app.userSeed, strangerCredsFile };
}
