/**
 * The embedded broker for `npm start`: when nothing answers at NATS_URL, start a local nats-server with JetStream,
 * its store and config under dataDir, on the host and port NATS_URL names. Owned and stopped by the supervisor.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join, resolve } from "node:path";
import { ErrorCode, OfaError } from "../protocol/errors.ts";

const BINARIES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];
const START_TIMEOUT_MS = 10_000;

export function findNatsServer(): string | undefined {
  const onPath = (process.env.PATH ?? "").split(":").map((d) => join(d, "nats-server"));
  return [...onPath, ...BINARIES].find((p) => existsSync(p));
}

export function hostPort(natsUrl: string): { host: string; port: number } {
  const url = new URL(natsUrl.includes("://") ? natsUrl : `nats://${natsUrl}`);
  return { host: url.hostname || "127.0.0.1", port: Number(url.port || 4222) };
}

/** True when something accepts TCP connections at host:port within timeoutMs. */
export function isListening(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolvePromise(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export class EmbeddedBroker {
  private readonly child: ChildProcess;
  readonly configPath: string;
  private constructor(
    child: ChildProcess,
    configPath: string,
  ) {
    this.child = child;
    this.configPath = configPath;
  }

  static async start(natsUrl: string, dataDir: string): Promise<EmbeddedBroker> {
    const binary = findNatsServer();
    if (!binary) throw new OfaError(ErrorCode.INTERNAL, "no NATS server answers and nats-server is not installed: run `apt-get install -y nats-server`");
    const { host, port } = hostPort(natsUrl);
    const dir = resolve(dataDir);
    await mkdir(join(dir, "jetstream"), { recursive: true });
    const configPath = join(dir, "nats-server.conf");
    await writeFile(configPath, embeddedConfig(host, port, join(dir, "jetstream"), supportsSyncInterval(binary)));
    const [command, args] = tiedToParent(binary, ["-c", configPath]);
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await isListening(host, port, 200))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new OfaError(ErrorCode.INTERNAL, `embedded nats-server did not start: ${stderr.trim() || "timed out"}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return new EmbeddedBroker(child, configPath);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the server to stop without waiting (the last resort of a shutdown that ran out of time). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/**
 * The embedded server must not outlive `serve`, even one killed with SIGKILL (nothing in serve runs then). On Linux,
 * util-linux's setpriv sets the kernel's parent-death signal and execs the server in its place (same pid): the kernel
 * sends it SIGTERM, a clean shutdown, when serve dies. Elsewhere, a shell watcher polls serve's pid once a second.
 */
function tiedToParent(binary: string, args: readonly string[]): [string, string[]] {
  if (process.platform === "linux" && SETPRIV) return [SETPRIV, ["--pdeathsig", "SIGTERM", "--", binary, ...args]];
  const script = `"$@" & child=$!; trap 'kill -TERM $child 2>/dev/null' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill -TERM $child 2>/dev/null; wait $child`;
  return ["/bin/sh", ["-c", script, "nats-server-watch", binary, ...args]];
}

/** `sync_interval` exists from nats-server 2.10; Debian 12's 2.9.10 refuses to start with it. */
function supportsSyncInterval(binary: string): boolean {
  try {
    const match = /v(\d+)\.(\d+)/.exec(execFileSync(binary, ["--version"], { encoding: "utf8" }));
    return match !== null && (Number(match[1]) > 2 || (Number(match[1]) === 2 && Number(match[2]) >= 10));
  } catch {
    return false;
  }
}

/**
 * Loopback-only JetStream server; max_payload sized for base64 images. Where the server supports it, fsync before
 * every ack (`sync_interval: always`; README Guarantees explains why and what 2.9 does instead).
 */
function embeddedConfig(host: string, port: number, storeDir: string, syncAlways: boolean): string {
  const sync = syncAlways ? ", sync_interval: always" : "";
  return [
    `listen: ${host}:${port}`,
    "max_payload: 8MB",
    `jetstream { store_dir: "${storeDir}", max_memory_store: 256MB, max_file_store: 8GB${sync} }`,
    "",
  ].join("\n");
}
