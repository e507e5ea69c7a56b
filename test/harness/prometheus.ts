/**
 * A real Prometheus server for tests (Debian package `prometheus`): temp dir for config and TSDB, a random loopback
 * port, scraping the given targets at a short interval and evaluating the given rule file; queried through its HTTP
 * API. Also finds `promtool`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { until } from "./wait.ts";

/** `prometheus` or `promtool`: on PATH or in /usr/bin (where Debian puts them). */
export function prometheusBinary(name: "prometheus" | "promtool"): string {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/bin", "/usr/local/bin"];
  const found = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} not found: install Debian's prometheus package (\`apt-get install -y prometheus\`, or run scripts/prereqs.sh as root)`);
  return found;
}

export interface PrometheusOptions {
  /** host:port of each target scraped at /metrics. */
  readonly targets: readonly string[];
  /** Rule file text (YAML), loaded as rules.yaml. */
  readonly rules: string;
  /** Scrape and evaluation interval, e.g. "1s". */
  readonly interval: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  value: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class Prometheus {
  readonly dir: string;
  url = "";
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  stderr = "";

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async start(opts: PrometheusOptions): Promise<Prometheus> {
    const prom = new Prometheus(await mkdtemp(join(tmpdir(), "ofa-prom-")));
    const config = {
      global: { scrape_interval: opts.interval, scrape_timeout: opts.interval, evaluation_interval: opts.interval },
      rule_files: [join(prom.dir, "rules.yaml")],
      scrape_configs: [{ job_name: "ofa-entail", metrics_path: "/metrics", static_configs: [{ targets: opts.targets }] }],
    };
    await writeFile(join(prom.dir, "rules.yaml"), opts.rules);
    await writeFile(join(prom.dir, "prometheus.yml"), stringify(config));
    // The free port may be taken between our probe and Prometheus binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      const ok = await prom.launch(await freePort());
      if (ok) return prom;
      if (attempt === 3) throw new Error(`prometheus did not start:\n${prom.stderr}`);
    }
  }

  private async launch(port: number): Promise<boolean> {
    const args = [
      `--config.file=${join(this.dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(this.dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ];
    const child = spawn(prometheusBinary("prometheus"), args, { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    child.stderr?.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-8000)));
    let dead = false;
    this.exited = new Promise((resolve) => child.once("exit", () => ((dead = true), resolve())));
    this.url = `http://127.0.0.1:${port}`;
    const ready = async () => (await fetch(`${this.url}/-/ready`).catch(() => undefined))?.status === 200;
    await until(async () => dead || (await ready()), { name: "prometheus /-/ready", timeoutMs: 30_000, intervalMs: 100 });
    return !dead;
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** An instant query's result vector (scalars come back as one sample). */
  async query(expr: string): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: unknown }>(`query?query=${encodeURIComponent(expr)}`);
    if (data.resultType === "vector") return data.result as Sample[];
    if (data.resultType === "scalar") return [{ metric: {}, value: data.result as [number, string] }];
    throw new Error(`prometheus: ${expr} gave a ${data.resultType}`);
  }

  async alerts(): Promise<ActiveAlert[]> {
    return (await this.api<{ alerts: ActiveAlert[] }>("alerts")).alerts;
  }

  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    return (await this.api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>("targets")).activeTargets;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
