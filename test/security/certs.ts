/**
 * Throwaway PKI for the TLS tests, made with the openssl CLI in a temp dir: a CA, a server certificate for
 * 127.0.0.1/localhost and a client certificate signed by it, plus a second, unrelated "rogue" CA with its own
 * client certificate. EC P-256 keys: generating the lot takes well under a second.
 * Needs the `openssl` binary (Debian package openssl).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A CA that signed nothing the server knows. */
  readonly rogueCaFile: string;
  /** A client certificate signed by the rogue CA. */
  readonly rogueClientCertFile: string;
  readonly rogueClientKeyFile: string;
  remove(): Promise<void>;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export function opensslAvailable(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ["req", "-x509", ...EC, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=ofa-entail test ${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
}

async function makeLeaf(dir: string, ca: string, name: string, extensions: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial",
    "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
}

export async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), "ofa-pki-"));
  makeCa(dir, "ca");
  makeCa(dir, "rogue-ca");
  // Go (nats-server) ignores the CN: the address must be in subjectAltName.
  await makeLeaf(dir, "ca", "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await makeLeaf(dir, "ca", "client", "extendedKeyUsage=clientAuth\n");
  await makeLeaf(dir, "rogue-ca", "rogue-client", "extendedKeyUsage=clientAuth\n");
  const f = (name: string) => join(dir, name);
  return {
    dir,
    caFile: f("ca.pem"),
    serverCertFile: f("server.pem"),
    serverKeyFile: f("server.key"),
    clientCertFile: f("client.pem"),
    clientKeyFile: f("client.key"),
    rogueCaFile: f("rogue-ca.pem"),
    rogueClientCertFile: f("rogue-client.pem"),
    rogueClientKeyFile: f("rogue-client.key"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The nats-server `tls {}` block: server certificate, and with `verify` clients must present one from the CA. */
export function tlsConf(pki: Pki, verify: boolean): string {
  return `tls {\n  cert_file: "${pki.serverCertFile}"\n  key_file: "${pki.serverKeyFile}"\n  ca_file: "${pki.caFile}"\n  verify: ${verify}\n  timeout: 2\n}`;
}
