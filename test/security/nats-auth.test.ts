/**
 * NATS credentials, each against a real nats-server that demands them: user/password, token, an nkey seed file,
 * and a .creds file (operator mode: trusted operator, account JWT with JetStream, user JWT + seed). For each, the
 * service connects, provisions JetStream and answers; its logs, /status and /metrics never show the secret; and a
 * wrong or missing credential stops the start at once with a non-zero exit and a message naming the problem.
 */
import { after, before, describe, test } from "node:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credsAuthenticator, nkeyAuthenticator } from "@nats-io/transport-node";
import { readFileSync } from "node:fs";
import { NatsServer } from "../harness/nats-server.ts";
import { expectRefused, expectServesWithoutLeaks, secret } from "./helpers.ts";
import { operatorSetup, userNkey, type OperatorSetup } from "./nkeys.ts";

const AUTH_VIOLATION = /Authorization Violation/;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ofa-auth-"));
});
after(() => rm(dir, { recursive: true, force: true }));

describe("security - user/password", () => {
  const password = secret("pw");
  let ns: NatsServer;
  before(async () => {
    ns = await NatsServer.start({ extraConf: `authorization { users: [ { user: ofa, password: "${password}" } ] }` });
  });
  after(() => ns?.stop());

  test("security - user/password: the service connects with OFA_NATS_USER / OFA_NATS_PASSWORD and answers; the password never appears in its logs, /status or /metrics", async () => {
    await expectServesWithoutLeaks(ns.url, { OFA_NATS_USER: "ofa", OFA_NATS_PASSWORD: password }, { user: "ofa", pass: password }, [password]);
  });

  test("security - user/password: a wrong password stops the start with 'Authorization Violation' (exit 1) and is not echoed", async () => {
    const wrong = secret("wrong-pw");
    await expectRefused(ns.url, { OFA_NATS_USER: "ofa", OFA_NATS_PASSWORD: wrong }, AUTH_VIOLATION, [wrong, password]);
  });

  test("security - user/password: no credentials at all stops the start with 'Authorization Violation' (exit 1)", async () => {
    await expectRefused(ns.url, {}, AUTH_VIOLATION, [password]);
  });

  test("security - configuration: a user without a password, or two auth methods at once, is refused before connecting (exit 2)", async () => {
    await expectRefused(ns.url, { OFA_NATS_USER: "ofa" }, /OFA_NATS_USER needs OFA_NATS_PASSWORD/, [], 2);
    const token = secret("tok");
    await expectRefused(ns.url, { OFA_NATS_USER: "ofa", OFA_NATS_PASSWORD: password, OFA_NATS_TOKEN: token }, /choose one NATS auth method/, [password, token], 2);
  });

  test("security - a password written into NATS_URL is not used (nats.js ignores userinfo): the start fails with 'Authorization Violation' and does not show it", async () => {
    await expectRefused(`nats://ofa:${password}@127.0.0.1:${ns.port}`, {}, AUTH_VIOLATION, [password]);
  });

  test(
    "security - a password written into NATS_URL never appears in logs or /status, even where the server lets the connection in",
    async (t) => {
      const open = await NatsServer.start();
      t.after(() => open.stop());
      const leaked = secret("url-pw");
      await expectServesWithoutLeaks(`nats://ofa:${leaked}@127.0.0.1:${open.port}`, {}, {}, [leaked]);
    },
  );
});

describe("security - token", () => {
  const token = secret("tok");
  let ns: NatsServer;
  before(async () => {
    ns = await NatsServer.start({ extraConf: `authorization { token: "${token}" }` });
  });
  after(() => ns?.stop());

  test("security - token: the service connects with OFA_NATS_TOKEN and answers; the token never appears in its logs, /status or /metrics", async () => {
    await expectServesWithoutLeaks(ns.url, { OFA_NATS_TOKEN: token }, { token }, [token]);
  });

  test("security - token: a wrong token stops the start with 'Authorization Violation' (exit 1) and is not echoed", async () => {
    const wrong = secret("wrong-tok");
    await expectRefused(ns.url, { OFA_NATS_TOKEN: wrong }, AUTH_VIOLATION, [wrong, token]);
  });
});

describe("security - nkey seed file", () => {
  const user = userNkey();
  let ns: NatsServer;
  let seedFile: string;
  before(async () => {
    ns = await NatsServer.start({ extraConf: `authorization { users: [ { nkey: ${user.publicKey} } ] }` });
    seedFile = join(dir, "ofa.nk");
    await writeFile(seedFile, `${user.seed}\n`, { mode: 0o600 });
  });
  after(() => ns?.stop());

  test("security - nkey: the service signs the server's nonce with the seed in OFA_NATS_NKEY_SEED_FILE and answers; the seed never appears in its logs, /status or /metrics", async () => {
    const authenticator = nkeyAuthenticator(new TextEncoder().encode(user.seed));
    await expectServesWithoutLeaks(ns.url, { OFA_NATS_NKEY_SEED_FILE: seedFile }, { authenticator }, [user.seed]);
  });

  test("security - nkey: another user's seed stops the start with 'Authorization Violation' (exit 1) and is not echoed", async () => {
    const stranger = userNkey();
    const file = join(dir, "stranger.nk");
    await writeFile(file, stranger.seed, { mode: 0o600 });
    await expectRefused(ns.url, { OFA_NATS_NKEY_SEED_FILE: file }, AUTH_VIOLATION, [stranger.seed, user.seed]);
  });

  test("security - nkey: a seed file that holds no seed, or no seed file at all, stops the start naming the problem (exit 1)", async () => {
    const garbage = `SU${"Q".repeat(20)}-not-a-seed`;
    const file = join(dir, "garbage.nk");
    await writeFile(file, garbage, { mode: 0o600 });
    await expectRefused(ns.url, { OFA_NATS_NKEY_SEED_FILE: file }, /nkeys: invalid encoded key/, [garbage, user.seed]);
    const missing = join(dir, "missing.nk");
    await expectRefused(ns.url, { OFA_NATS_NKEY_SEED_FILE: missing }, new RegExp(`ENOENT[^"]*${missing}`), [user.seed]);
  });
});

describe("security - creds file (operator mode: JWT + nkey seed)", () => {
  let ns: NatsServer;
  let operator: OperatorSetup;
  before(async () => {
    operator = await operatorSetup(dir);
    ns = await NatsServer.start({ extraConf: operator.serverConf });
  });
  after(() => ns?.stop());

  test("security - creds: the service connects with OFA_NATS_CREDS, provisions JetStream in its account and answers; the seed never appears in its logs, /status or /metrics", async () => {
    const authenticator = credsAuthenticator(readFileSync(operator.credsFile));
    await expectServesWithoutLeaks(ns.url, { OFA_NATS_CREDS: operator.credsFile }, { authenticator }, [operator.userSeed]);
  });

  test("security - creds: a user of an account the operator never signed stops the start with 'Authorization Violation' (exit 1)", async () => {
    await expectRefused(ns.url, { OFA_NATS_CREDS: operator.strangerCredsFile }, AUTH_VIOLATION, [operator.userSeed]);
  });

  test("security - creds: a creds file that does not exist stops the start naming the file (exit 1)", async () => {
    const missing = join(dir, "missing.creds");
    await expectRefused(ns.url, { OFA_NATS_CREDS: missing }, new RegExp(`ENOENT[^"]*${missing}`));
  });
});
