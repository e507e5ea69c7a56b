/**
 * Starts real nats-server processes for tests: random loopback ports (found through the ports file),
 * a temp JetStream store per server, restart on the same port and store, kill with any signal.
 * Modelled on nats.js's nst launcher. Never assumes a server is already running.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer } from "../../src/broker/embedded.ts";
import { until } from "./wait.ts";

/** The nats-server the service itself would embed (one lookup: src/broker/embedded.ts), or a clear failure. */
export function natsServerBinary(): string {
  const found = findNatsServer();
  if (found) return found;
  throw new Error("nats-server not found on PATH or in /usr/sbin: install it with `apt-get install -y nats-server`");
}

export interface NatsServerOptions {
  /** Extra config text appended inside the top level (e.g. authorization blocks, tls). */
  extraConf?: string;
  /** Extra config text appended inside the jetstream block (e.g. `sync_interval: always`). */
  jetstreamConf?: string;
  maxPayload?: string;
  /** Fixed client port; default a random free one. */
  port?: number;
  storeDir?: string;
}

export class NatsServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  port = 0;
  monitorPort = 0;

  readonly dir: string;
  private readonly opts: NatsServerOptions;
  private constructor(
    dir: string,
    opts: NatsServerOptions,
  ) {
    this.dir = dir;
    this.opts = opts;
  }

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const dir = await mkdtemp(join(tmpdir(), "ofa-nats-"));
    const server = new NatsServer(dir, opts);
    await server.launch(opts.port ?? -1, -1);
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get storeDir(): string {
    return this.opts.storeDir ?? join(this.dir, "js");
  }

  private config(port: number, monitorPort: number): string {
    return [
      `listen: 127.0.0.1:${port}`,
      `http: 127.0.0.1:${monitorPort}`,
      `ports_file_dir: "${this.dir}"`,
      `max_payload: ${this.opts.maxPayload ?? "8MB"}`,
      `jetstream { store_dir: "${this.storeDir}", max_memory_store: 256MB, max_file_store: 4GB ${this.opts.jetstreamConf ?? ""} }`,
      this.opts.extraConf ?? "",
    ].join("\n");
  }

  private async launch(port: number, monitorPort: number): Promise<void> {
    for (const f of await readdir(this.dir)) if (f.endsWith(".ports")) await rm(join(this.dir, f));
    const conf = join(this.dir, "server.conf");
    await writeFile(conf, this.config(port, monitorPort));
    const child = spawn(natsServerBinary(), ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let dead = false;
    this.exited = new Promise((resolve) => child.once("exit", () => ((dead = true), resolve())));
    await until(async () => dead || (await this.readPorts()), { name: "nats-server ports file", timeoutMs: 10_000 });
    if (dead) throw new Error(`nats-server exited at start:\n${stderr}`);
  }

  private async readPorts(): Promise<boolean> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith(".ports"));
    if (files.length === 0) return false;
    try {
      const ports = JSON.parse(await readFile(join(this.dir, files[0]!), "utf8")) as { nats: string[]; monitoring?: string[] };
      this.port = Number(new URL(ports.nats[0]!).port);
      this.monitorPort = ports.monitoring?.[0] ? Number(new URL(ports.monitoring[0]).port) : 0;
      return this.port > 0;
    } catch {
      return false; // file seen half-written
    }
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT, …) to the server process. */
  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /** Stops the process (SIGTERM, or SIGKILL after 5 s) and keeps the store. */
  async halt(sig: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(sig);
    const t = setTimeout(() => this.child?.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(t);
  }

  /** Restarts on the same ports and store dir. */
  async restart(): Promise<void> {
    await this.halt();
    await this.launch(this.port, this.monitorPort);
  }

  async varz(): Promise<Record<string, unknown>> {
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/varz`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** The names of the server's client connections (its /connz monitoring endpoint). */
  async connectionNames(): Promise<string[]> {
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/connz?limit=4096`);
    const body = (await res.json()) as { connections?: Array<{ name?: string }> };
    return (body.connections ?? []).map((c) => c.name ?? "");
  }

  /** Stops the server and removes its temp dir (store included). */
  async stop(): Promise<void> {
    await this.halt();
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
