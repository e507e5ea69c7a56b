/**
 * TLS to NATS with a private CA (generated here with openssl): the service verifies the server against
 * OFA_NATS_TLS_CA, presents OFA_NATS_TLS_CERT / OFA_NATS_TLS_KEY where the server demands client certificates
 * (`verify: true`), and refuses to start — at once, non-zero, naming the certificate problem — when either side's
 * certificate is not trusted. nats-server's /connz proves the service's own connections are encrypted.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { NatsServer } from "../harness/nats-server.ts";
import { makePki, opensslAvailable, tlsConf, type Pki } from "./certs.ts";
import { expectRefused, expectServesWithoutLeaks } from "./helpers.ts";

const skip = opensslAvailable() ? false : "openssl is not installed (Debian: apt-get install openssl)";
const UNTRUSTED_SERVER = /unable to verify the first certificate/;

interface Connz {
  connections?: { name?: string; tls_version?: string; tls_cipher_suite?: string }[];
}

/** The service's connections as nats-server saw them, closed ones included (it has stopped by then). */
async function serviceConnections(ns: NatsServer): Promise<NonNullable<Connz["connections"]>> {
  const res = await fetch(`http://127.0.0.1:${ns.monitorPort}/connz?state=all&limit=1024`);
  const connz = (await res.json()) as Connz;
  return (connz.connections ?? []).filter((c) => c.name?.startsWith("ofa-entail-"));
}

/** The base64 body of a PEM file: the part that must never be printed. */
function pemBody(file: string): string {
  return readFileSync(file, "utf8").split("\n").filter((l) => l && !l.startsWith("-----")).join("");
}

describe("security - TLS with a private CA", { skip }, () => {
  let pki: Pki;
  let tls: NatsServer;
  let mtls: NatsServer;
  before(async () => {
    pki = await makePki();
    tls = await NatsServer.start({ extraConf: tlsConf(pki, false) });
    mtls = await NatsServer.start({ extraConf: tlsConf(pki, true) });
  });
  after(async () => {
    await tls?.stop();
    await mtls?.stop();
    await pki?.remove();
  });

  test("security - TLS: with OFA_NATS_TLS_CA the service verifies the server, connects over TLS and answers", async () => {
    await expectServesWithoutLeaks(tls.url, { OFA_NATS_TLS_CA: pki.caFile }, { tls: { caFile: pki.caFile } }, []);
    const conns = await serviceConnections(tls);
    assert.ok(conns.some((c) => c.name === "ofa-entail-supervisor") && conns.some((c) => c.name?.startsWith("ofa-entail-worker-")), JSON.stringify(conns));
    assert.ok(conns.every((c) => c.tls_version), `every service connection is TLS: ${JSON.stringify(conns)}`);
  });

  test("security - TLS: without the private CA (system roots only) the start fails at once, saying the server's certificate cannot be verified", async () => {
    await expectRefused(tls.url, {}, UNTRUSTED_SERVER);
  });

  test("security - TLS: trusting another CA fails the same way", async () => {
    await expectRefused(tls.url, { OFA_NATS_TLS_CA: pki.rogueCaFile }, UNTRUSTED_SERVER);
  });

  test("security - TLS: asking for TLS from a server without it fails, saying the server does not support TLS", async (t) => {
    const plain = await NatsServer.start();
    t.after(() => plain.stop());
    await expectRefused(plain.url, { OFA_NATS_TLS_CA: pki.caFile }, /server does not support 'tls'/);
  });

  test("security - mutual TLS: with a client certificate from the CA the service connects and answers; its private key never appears in its output", async () => {
    const env = { OFA_NATS_TLS_CA: pki.caFile, OFA_NATS_TLS_CERT: pki.clientCertFile, OFA_NATS_TLS_KEY: pki.clientKeyFile };
    const client = { tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile } };
    await expectServesWithoutLeaks(mtls.url, env, client, [pemBody(pki.clientKeyFile)]);
    const conns = await serviceConnections(mtls);
    assert.ok(conns.length >= 2 && conns.every((c) => c.tls_version), JSON.stringify(conns));
  });

  // nats.js alone would retry in silence here and give up after 20 s with "timeout" (TLS 1.3 refuses a client
  // certificate after the handshake); src/nats/connect.ts makes the first attempt report the real cause.
  test("security - mutual TLS: without a client certificate the start fails at once, naming the certificate", async () => {
    await expectRefused(mtls.url, { OFA_NATS_TLS_CA: pki.caFile }, /bad certificate|certificate required|OFA_NATS_TLS_CERT/);
  });

  test("security - mutual TLS: a client certificate from another CA is refused at once, naming the certificate", async () => {
    const env = { OFA_NATS_TLS_CA: pki.caFile, OFA_NATS_TLS_CERT: pki.rogueClientCertFile, OFA_NATS_TLS_KEY: pki.rogueClientKeyFile };
    await expectRefused(mtls.url, env, /bad certificate|unknown ca|OFA_NATS_TLS_CERT/, [pemBody(pki.rogueClientKeyFile)]);
  });

  test("security - configuration: a client certificate without its key is refused before connecting (exit 2)", async () => {
    await expectRefused(mtls.url, { OFA_NATS_TLS_CA: pki.caFile, OFA_NATS_TLS_CERT: pki.clientCertFile }, /OFA_NATS_TLS_CERT needs OFA_NATS_TLS_KEY/, [], 2);
  });
});
