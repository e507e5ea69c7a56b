/**
 * Runs a bench/*.ts entry as a separate Node process and talks to it over IPC. Every measured party gets its own
 * process: the publisher (the issue asks for a separate one), the raw-onnxruntime loop (its 6 GB OFA-large session
 * must be gone, memory and threads, before the service loads its own) and the overhead probes.
 *
 * Protocol: the parent sends one `start` message with the spec; the child answers with any number of `progress`
 * messages and then exactly one `result` or `error`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { fileURLToPath } from "node:url";

type ToChild<S> = { readonly kind: "start"; readonly spec: S };
type FromChild<P, R> =
  | { readonly kind: "progress"; readonly progress: P }
  | { readonly kind: "result"; readonly result: R }
  | { readonly kind: "error"; readonly message: string };

export interface ChildRun<P, R> {
  readonly pid: number;
  readonly result: Promise<R>;
  onProgress(listener: (p: P) => void): void;
  kill(): void;
}

export interface ChildOptions {
  /** Where the child's stdout/stderr go (a log file); default: discarded. */
  readonly logFile?: string;
  /** Extra execArgv, e.g. --cpu-prof for a profile of the child. */
  readonly execArgv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export function runChild<S, P, R>(entry: string, spec: S, options: ChildOptions = {}): ChildRun<P, R> {
  const fd = options.logFile ? openSync(options.logFile, "a") : "ignore";
  const child = fork(fileURLToPath(new URL(entry, import.meta.url)), [], {
    execArgv: [...(options.execArgv ?? [])],
    stdio: ["ignore", fd, fd, "ipc"],
    serialization: "advanced",
    env: options.env ?? process.env,
  });
  if (typeof fd === "number") closeSync(fd); // the child holds its own copy
  const listeners: Array<(p: P) => void> = [];
  const result = settle<P, R>(child, listeners, entry);
  child.send({ kind: "start", spec } satisfies ToChild<S>);
  return {
    pid: child.pid ?? -1,
    result,
    onProgress: (l) => listeners.push(l),
    kill: () => child.kill("SIGKILL"),
  };
}

function settle<P, R>(child: ChildProcess, listeners: Array<(p: P) => void>, entry: string): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let done = false;
    child.on("message", (m: FromChild<P, R>) => {
      if (m.kind === "progress") {
        for (const l of listeners) l(m.progress);
        return;
      }
      done = true;
      if (m.kind === "result") resolve(m.result);
      else reject(new Error(`${entry}: ${m.message}`));
    });
    child.once("exit", (code, signal) => {
      if (!done) reject(new Error(`${entry} exited (code ${code}, signal ${signal}) before sending a result`));
    });
  });
}

/**
 * The child side: waits for `start`, runs `main`, reports its result and exits. The exit is explicit because an
 * open NATS connection or a libuv handle would otherwise keep the child alive after the parent has its answer.
 */
export function childMain<S, P, R>(main: (spec: S, progress: (p: P) => void) => Promise<R>): void {
  const send = (m: FromChild<P, R>) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  process.once("message", (m: ToChild<S>) => {
    main(m.spec, (p) => void send({ kind: "progress", progress: p }))
      .then((result) => send({ kind: "result", result }))
      .catch((err: unknown) => send({ kind: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
      .finally(() => process.exit(0));
  });
}
