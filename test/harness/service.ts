/**
 * Runs the real `ofa-entail serve` as a child process for tests, parses its pino JSON lines, finds the admin
 * address from its "admin listening" line, and can signal it. Nothing about it is mocked.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { until } from "./wait.ts";

export const BIN = fileURLToPath(new URL("../../bin/ofa-entail.mjs", import.meta.url));
export const TINY_MODEL = fileURLToPath(new URL("../../models/tiny", import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** `serve`'s environment in tests: the tiny model, one worker, one thread, admin on a random loopback port. */
export function serveEnv(natsUrl: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NATS_URL: natsUrl,
    OFA_ADMIN_ADDR: "127.0.0.1:0",
    OFA_MODEL_DIR: TINY_MODEL,
    OFA_LOG_LEVEL: "info",
    OFA_WORKERS: "1",
    OFA_INTRA_OP_THREADS: "1",
    ...env,
  };
}

export class Service {
  readonly lines: LogLine[] = [];
  /** Every stdout line as written (JSON.parse keeps only the last of two equal keys; these show both). */
  readonly raw: string[] = [];
  adminUrl = "";
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  readonly child: ChildProcess;
  private constructor(child: ChildProcess) {
    this.child = child;
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      this.raw.push(line);
      try {
        const parsed = JSON.parse(line) as LogLine;
        this.lines.push(parsed);
        if (parsed.msg === "admin listening") this.adminUrl = String(parsed.admin);
      } catch {
        // not a log line
      }
    });
    child.stderr?.on("data", () => undefined);
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Starts `serve` against natsUrl with env overrides (OFA_*), admin on a random port. */
  static async start(natsUrl: string, env: Record<string, string> = {}): Promise<Service> {
    const child = spawn(process.execPath, [BIN, "serve"], { env: serveEnv(natsUrl, env), stdio: ["ignore", "pipe", "pipe"] });
    const service = new Service(child);
    await until(() => service.adminUrl !== "" || child.exitCode !== null, { name: "serve admin listening", timeoutMs: 30_000 });
    if (child.exitCode !== null) throw new Error(`serve exited early: ${JSON.stringify(service.lines.slice(-3))}`);
    return service;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const res = await fetch(`${this.adminUrl}${path}`, { headers });
    return { status: res.status, text: await res.text() };
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    await until(async () => (await this.get("/readyz").catch(() => ({ status: 0 }))).status === 200, { name: "serve /readyz 200", timeoutMs });
  }

  async status(): Promise<{ workers: Array<{ id: number; pid: number; state: string; restarts: number }> } & Record<string, unknown>> {
    return JSON.parse((await this.get("/status")).text);
  }

  /** One metric sample's value from /metrics, e.g. metric('ofa_verdicts_total{outcome="ok",code="none"}'). */
  async metric(sample: string): Promise<number> {
    const body = (await this.get("/metrics")).text;
    const line = body.split("\n").find((l) => l.startsWith(`${sample} `));
    return line ? Number(line.slice(sample.length + 1)) : 0;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  /** Stops the service (SIGTERM, then SIGKILL of the whole tree after 15 s). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
