/**
 * The service under test: the real `ofa-entail serve` (supervisor + forked workers), configured by env as an operator
 * would. Unlike the test harness (test/harness/service.ts), its logs go straight to a file: parsing thousands of
 * verdict log lines in the bench process would take CPU from the service being measured.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BIN = fileURLToPath(new URL("../bin/ofa-entail.mjs", import.meta.url));
const WORKER_ENTRY = "consumer/main.ts";
const POLL_MS = 200;
const STOP_GRACE_MS = 20_000;

export interface ServiceOptions {
  readonly natsUrl: string;
  /** OFA_* settings (src/config/settings.ts). */
  readonly env: Record<string, string>;
  readonly logFile: string;
}

export class ServiceUnderTest {
  private readonly exited: Promise<void>;
  /** Workers seen on /status: killed at stop() if the supervisor left any behind. */
  private readonly seenWorkers = new Set<number>();

  private readonly child: ChildProcess;
  readonly adminUrl: string;
  private constructor(
    child: ChildProcess,
    adminUrl: string,
  ) {
    this.child = child;
    this.adminUrl = adminUrl;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static async start(options: ServiceOptions): Promise<ServiceUnderTest> {
    const port = await freePort();
    const fd = openSync(options.logFile, "a");
    const child = spawn(process.execPath, [BIN, "serve"], {
      env: {
        ...process.env,
        NATS_URL: options.natsUrl,
        OFA_ADMIN_ADDR: `127.0.0.1:${port}`,
        // Every request is distinct in a benchmark only if the verdict cache is off; repeated images would hit it.
        OFA_CACHE_TTL_MS: "0",
        OFA_LOG_LEVEL: "info",
        ...options.env,
      },
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    return new ServiceUnderTest(child, `http://127.0.0.1:${port}`);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Waits for /readyz 200: every worker has its model loaded (smoke inference done) and is consuming. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`serve exited with code ${this.child.exitCode} before it was ready`);
      const status = await fetch(`${this.adminUrl}/readyz`).then((r) => r.status, () => 0);
      if (status === 200) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`serve not ready after ${timeoutMs} ms`);
  }

  async workerPids(): Promise<number[]> {
    const status = (await (await fetch(`${this.adminUrl}/status`)).json()) as { workers: Array<{ pid?: number }> };
    const pids = status.workers.map((w) => w.pid).filter((p): p is number => typeof p === "number");
    for (const pid of pids) this.seenWorkers.add(pid);
    return pids;
  }

  async metricsText(): Promise<string> {
    return (await fetch(`${this.adminUrl}/metrics`)).text();
  }

  /** SIGTERM (drain), then SIGKILL if it has not exited within the grace. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    for (const pid of this.seenWorkers) killIfAlive(pid);
  }
}

/**
 * `ofa-entail provision` against `natsUrl`: the streams, consumers and buckets as the service defines them, at its
 * defaults (the environment's OFA_* left out) with the verdict cache off. For probes that consume without a supervisor.
 */
export async function provisionStreams(natsUrl: string): Promise<void> {
  const env = { PATH: process.env.PATH ?? "", NATS_URL: natsUrl, OFA_CACHE_TTL_MS: "0" };
  await promisify(execFile)(process.execPath, [BIN, "provision"], { env, timeout: 60_000 });
}

/** Kills a leftover worker, checking first that the pid still names one (pids get reused). */
function killIfAlive(pid: number): void {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(WORKER_ENTRY)) return;
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone: the normal case after a clean drain
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The sum and count of a histogram on /metrics (merged over workers by the admin port). */
export function histogramTotals(metrics: string, name: string): { sum: number; count: number } {
  const value = (suffix: string) => {
    const line = metrics.split("\n").find((l) => l.startsWith(`${name}_${suffix} `));
    return line ? Number(line.slice(line.indexOf(" ") + 1)) : 0;
  };
  return { sum: value("sum"), count: value("count") };
}
