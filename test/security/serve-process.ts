/**
 * Runs the real `ofa-entail serve` for the security tests and keeps *everything* it writes — stdout and stderr of
 * the supervisor and its (inheriting) workers, JSON or not — so a test can grep all of it for secrets, and can
 * watch a start that must fail: exit status and the words it gave.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { BIN, serveEnv, type LogLine } from "../harness/service.ts";
import { until } from "../harness/wait.ts";

/** Model load included, a start on the 2-core CI machine is a few seconds. */
const START_TIMEOUT_MS = 30_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ServeProcess {
  /** Every byte of stdout and stderr, in arrival order. */
  output = "";
  adminUrl = "";
  private readonly exited: Promise<Exit>;

  readonly child: ChildProcess;
  private constructor(child: ChildProcess) {
    this.child = child;
    const take = (d: Buffer) => {
      this.output += d.toString();
      if (!this.adminUrl) this.adminUrl = /"msg":"admin listening"/.test(this.output) ? adminFrom(this.lines) : "";
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Spawns `serve` (one worker, admin on a random loopback port unless env says otherwise). */
  static spawn(natsUrl: string, env: Record<string, string> = {}): ServeProcess {
    const child = spawn(process.execPath, [BIN, "serve"], { env: serveEnv(natsUrl, env), stdio: ["ignore", "pipe", "pipe"] });
    return new ServeProcess(child);
  }

  /** Spawns and waits until /readyz says 200. */
  static async start(natsUrl: string, env: Record<string, string> = {}): Promise<ServeProcess> {
    const p = ServeProcess.spawn(natsUrl, env);
    await until(() => p.adminUrl !== "" || p.child.exitCode !== null, { name: "serve admin listening", timeoutMs: START_TIMEOUT_MS });
    if (p.child.exitCode !== null) throw new Error(`serve exited at start (${p.child.exitCode}):\n${p.output.slice(-2000)}`);
    await until(async () => (await p.get("/readyz").catch(() => ({ status: 0 }))).status === 200, { name: "serve /readyz 200", timeoutMs: START_TIMEOUT_MS });
    return p;
  }

  /** Spawns a start that must fail; resolves with how it exited once it has (bounded). */
  static async refused(natsUrl: string, env: Record<string, string>, timeoutMs = 20_000): Promise<Exit & { output: string }> {
    const p = ServeProcess.spawn(natsUrl, env);
    let exit: Exit | undefined;
    void p.exited.then((e) => (exit = e));
    try {
      await until(() => exit !== undefined, { name: "serve refuses to start and exits", timeoutMs });
    } finally {
      await p.stop();
    }
    return { ...exit!, output: p.output };
  }

  get lines(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.output.split("\n")) {
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line (or not complete yet)
      }
    }
    return out;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const res = await fetch(`${this.adminUrl}${path}`, { headers });
    return { status: res.status, text: await res.text() };
  }

  /** SIGTERM, then SIGKILL after 15 s; resolves once the process has exited. */
  async stop(): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
      void this.exited.then(() => clearTimeout(timer));
    }
    return this.exited;
  }
}

function adminFrom(lines: LogLine[]): string {
  const line = lines.find((l) => l.msg === "admin listening");
  return line ? String(line.admin) : "";
}

/** Every place a secret could leak, with the secrets found in each (empty when clean). */
export function leaks(places: Record<string, string>, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    for (const secret of secrets) if (text.includes(secret)) found.push(`${where} contains ${secret.slice(0, 4)}…`);
  }
  return found;
}
