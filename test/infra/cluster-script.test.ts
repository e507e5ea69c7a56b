/**
 * infra/nats/cluster.sh, as an operator runs it (infra/README.md): start, status, provision the
 * streams with 3 replicas through all three URLs, kill one node, start again (revives it), stop. Ports are shifted by a random offset so the test never collides with a
 * cluster already running on the default ports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { natsServerBinary } from "../harness/nats-server.ts";
import { natsServerVersion, supportsSyncInterval } from "../harness/nats-cluster.ts";

const SCRIPT = fileURLToPath(new URL("../../infra/nats/cluster.sh", import.meta.url));
const CLI = fileURLToPath(new URL("../../bin/ofa-entail.mjs", import.meta.url));
const BASE_PORTS = [4222, 4223, 4224, 6222, 6223, 6224, 8222, 8223, 8224];
const run = promisify(execFile);

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** An offset that moves all nine ports onto free ones. */
async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all(BASE_PORTS.map((p) => isFree(p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error("no free port offset found in 50 tries");
}

interface Result {
  code: number;
  out: string;
}

/** Runs cluster.sh with the given environment; a non-zero exit is a result, not an exception. */
function clusterScript(env: NodeJS.ProcessEnv): (...args: string[]) => Promise<Result> {
  return async (...args) => {
    try {
      const { stdout, stderr } = await run("bash", [SCRIPT, ...args], { env, timeout: 60_000 });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  };
}

/** The README's next step: `ofa-entail provision --replicas 3` through all three URLs; checks the result in /jsz. */
async function provisionR3(natsUrl: string, monitorPort: number): Promise<void> {
  const provision = await run(process.execPath, [CLI, "provision", "--replicas", "3"], { env: { ...process.env, NATS_URL: natsUrl }, timeout: 60_000 });
  assert.match(provision.stdout, /"name":"OFA_VE_REQ"/);
  const jsz = (await (await fetch(`http://127.0.0.1:${monitorPort}/jsz?acc=$G&streams=true&consumers=true&config=true`)).json()) as {
    account_details: { stream_detail: { name: string; config: { num_replicas: number }; consumer_detail?: { name: string }[] }[] }[];
  };
  const req = jsz.account_details[0]!.stream_detail.find((st) => st.name === "OFA_VE_REQ");
  assert.equal(req?.config.num_replicas, 3, "the request stream is R3");
  assert.deepEqual(req.consumer_detail?.map((c) => c.name).sort(), ["ofa-ve-bulk", "ofa-ve-interactive"]);
}

test("cluster.sh - start, status, provision --replicas 3, kill a node, start revives it, stop leaves nothing running", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-cluster-sh-"));
  const offset = await freeOffset();
  const sh = clusterScript({ ...process.env, NATS_SERVER: natsServerBinary(), OFA_CLUSTER_PORT_OFFSET: String(offset) });
  t.after(async () => {
    await sh("stop", dir);
    await rm(dir, { recursive: true, force: true });
  });

  const started = await sh("start", dir);
  assert.equal(started.code, 0, started.out);
  assert.match(started.out, /3 nodes up in .*, meta leader n[123]/);
  if (!supportsSyncInterval(natsServerVersion())) assert.match(started.out, /WARNING: .*has no sync_interval/);
  assert.match(await readFile(join(dir, "conf", "n1.conf"), "utf8"), new RegExp(`listen: 127\\.0\\.0\\.1:${4222 + offset}`));

  const status = await sh("status", dir);
  assert.equal(status.code, 0, status.out);
  const urls = [0, 1, 2].map((i) => `nats://127.0.0.1:${4222 + offset + i}`).join(",");
  assert.match(status.out, new RegExp(`NATS_URL=${urls}`));
  await provisionR3(urls, 8222 + offset);

  assert.equal((await sh("kill", "n2", dir)).code, 0);
  const degraded = await sh("status", dir);
  assert.equal(degraded.code, 1, "status fails while a node is down");
  assert.match(degraded.out, /^n2 .* stopped$/m);
  const revived = await sh("start", dir);
  assert.equal(revived.code, 0, revived.out);
  assert.equal((await sh("status", dir)).code, 0);

  const stopped = await sh("stop", dir);
  assert.equal((stopped.out.match(/stopped n[123]/g) ?? []).length, 3, stopped.out);
  const after = await sh("status", dir);
  assert.equal(after.code, 1);
  assert.equal((after.out.match(/ stopped$/gm) ?? []).length, 3, after.out);
});
