/**
 * Starts a real 3-node JetStream cluster on loopback for tests, configured by the very files
 * infra/nats/cluster.sh runs (infra/nats/cluster/n1..n3.conf and common.conf): each node's
 * committed config is copied with its ports swapped for random free ones, its store is a temp
 * dir, and `sync_interval` is dropped only when the server is too old to know it (2.9).
 * Waits are named and bounded; nodes can be killed (any signal) and restarted on the same
 * ports and store.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { natsServerBinary } from "./nats-server.ts";
import { until } from "./wait.ts";

/** The committed cluster configs this harness reuses. */
const CLUSTER_CONF_DIR = fileURLToPath(new URL("../../infra/nats/cluster/", import.meta.url));
const NODE_NAMES = ["n1", "n2", "n3"] as const;
export type NodeName = (typeof NODE_NAMES)[number];

/** The loopback ports written in n1..n3.conf, per node: client, route (cluster), monitor. */
const COMMITTED_PORTS: Record<NodeName, NodePorts> = {
  n1: { client: 4222, cluster: 6222, monitor: 8222 },
  n2: { client: 4223, cluster: 6223, monitor: 8223 },
  n3: { client: 4224, cluster: 6224, monitor: 8224 },
};
/** Each node's first start, cluster formation included, is well under this on a 2-core box. */
const START_TIMEOUT_MS = 20_000;
/** A SIGTERM'd node that has not exited by then gets SIGKILL. */
const HALT_TIMEOUT_MS = 5_000;

export interface NodePorts {
  client: number;
  cluster: number;
  monitor: number;
}

export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** `nats-server --version` of the binary the harness runs. */
export function natsServerVersion(bin = natsServerBinary()): ServerVersion {
  const text = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!m) throw new Error(`cannot read a version from '${text}'`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text };
}

/** `jetstream { sync_interval }` arrived in nats-server 2.10.0 (nats-io/nats-server#4483). */
export function supportsSyncInterval(v: ServerVersion): boolean {
  return v.major > 2 || (v.major === 2 && v.minor >= 10);
}

/**
 * A committed config made runnable on `version`: servers older than 2.10 refuse to start on
 * `sync_interval`, so that line is removed for them (and reported in `dropped`).
 */
export function adaptConfigForServer(text: string, version: ServerVersion): { text: string; dropped: string[] } {
  if (supportsSyncInterval(version)) return { text, dropped: [] };
  const dropped: string[] = [];
  const kept = text.split("\n").filter((line) => {
    const isSync = /^\s*sync_interval\s*:/.test(line);
    if (isSync) dropped.push(line.trim());
    return !isSync;
  });
  return { text: kept.join("\n"), dropped };
}

/** Rewrites every committed loopback port of a node config to the ports chosen for this run (one pass). */
function remapPorts(text: string, ports: Record<NodeName, NodePorts>): string {
  const map = new Map<number, number>();
  for (const name of NODE_NAMES) {
    for (const kind of ["client", "cluster", "monitor"] as const) map.set(COMMITTED_PORTS[name][kind], ports[name][kind]);
  }
  return text.replace(/127\.0\.0\.1:(\d+)\b/g, (whole, port: string) => {
    const to = map.get(Number(port));
    return to === undefined ? whole : `127.0.0.1:${to}`;
  });
}

/** Distinct free loopback ports: all are held open until every one is found, then released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => s.once("error", reject).listen(0, "127.0.0.1", resolve));
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** What the harness reads from `/jsz` (see the nats-server monitoring docs). */
export interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: { name: string; current: boolean }[] };
  account_details?: {
    name: string;
    stream_detail?: { name: string; cluster?: { leader?: string }; state?: { messages?: number; last_seq?: number } }[];
  }[];
}

export interface NatsClusterOptions {
  /** Top-level config text appended to every node's config (auth, tls, …). */
  extraConf?: string;
}

/** One node: its generated config, store and process. */
export class ClusterNode {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = "";

  readonly name: NodeName;
  readonly ports: NodePorts;
  readonly confFile: string;
  readonly storeDir: string;
  constructor(
    name: NodeName,
    ports: NodePorts,
    confFile: string,
    storeDir: string,
  ) {
    this.name = name;
    this.ports = ports;
    this.confFile = confFile;
    this.storeDir = storeDir;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.ports.client}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits for its monitor port (not for the cluster). */
  async launch(): Promise<void> {
    const child = spawn(natsServerBinary(), ["-c", this.confFile, "--store_dir", this.storeDir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child = child;
    this.stderrTail = "";
    child.stderr?.on("data", (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    await until(async () => !this.isRunning || (await this.monitorAnswers()), {
      name: `nats-server ${this.name} monitor port ${this.ports.monitor}`,
      timeoutMs: START_TIMEOUT_MS,
    });
    if (!this.isRunning) throw new Error(`nats-server ${this.name} exited at start:\n${this.stderrTail}`);
  }

  private async monitorAnswers(): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${this.ports.monitor}/varz`)).ok;
    } catch {
      return false;
    }
  }

  /** GET /jsz with the given query; undefined when the node does not answer. */
  async jsz(query = ""): Promise<Jsz | undefined> {
    if (!this.isRunning) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${this.ports.monitor}/jsz${query}`);
      return res.ok ? ((await res.json()) as Jsz) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sends a signal and waits for the process to exit (SIGKILL after 5 s unless it is SIGKILL). */
  async halt(sig: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.isRunning) return;
    this.child?.kill(sig);
    const t = setTimeout(() => this.child?.kill("SIGKILL"), HALT_TIMEOUT_MS);
    await this.exited;
    clearTimeout(t);
  }

  /** Last lines the process wrote to stderr (its log), for failure messages. */
  get log(): string {
    return this.stderrTail;
  }
}

export class NatsCluster {
  readonly dir: string;
  readonly nodes: readonly ClusterNode[];
  readonly droppedConfig: readonly string[];
  private constructor(
    dir: string,
    nodes: readonly ClusterNode[],
    /** Lines of the committed configs the installed server could not take (e.g. sync_interval on 2.9). */
    droppedConfig: readonly string[],
  ) {
    this.dir = dir;
    this.nodes = nodes;
    this.droppedConfig = droppedConfig;
  }

  /** Starts n1..n3 from the committed configs and waits until they agree on a meta leader. */
  static async start(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
    const dir = await mkdtemp(join(tmpdir(), "ofa-nats-cluster-"));
    let cluster: NatsCluster;
    try {
      cluster = await NatsCluster.writeConfigs(dir, opts);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      for (const node of cluster.nodes) await node.launch();
      await cluster.waitForMetaLeader();
      return cluster;
    } catch (err) {
      await cluster.stop(); // no node outlives a failed start
      throw err;
    }
  }

  private static async writeConfigs(dir: string, opts: NatsClusterOptions): Promise<NatsCluster> {
    const version = natsServerVersion();
    const free = await freePorts(NODE_NAMES.length * 3);
    const ports = Object.fromEntries(
      NODE_NAMES.map((n, i) => [n, { client: free[3 * i]!, cluster: free[3 * i + 1]!, monitor: free[3 * i + 2]! }]),
    ) as Record<NodeName, NodePorts>;
    const common = adaptConfigForServer(await readFile(join(CLUSTER_CONF_DIR, "common.conf"), "utf8"), version);
    await writeFile(join(dir, "common.conf"), common.text);
    const nodes: ClusterNode[] = [];
    for (const name of NODE_NAMES) {
      const committed = await readFile(join(CLUSTER_CONF_DIR, `${name}.conf`), "utf8");
      const confFile = join(dir, `${name}.conf`); // `include ./common.conf` resolves next to it
      const text = remapPorts(committed, ports);
      for (const port of Object.values(ports[name])) {
        if (!text.includes(`127.0.0.1:${port}`)) throw new Error(`${name}.conf no longer uses the ports in COMMITTED_PORTS; update the harness`);
      }
      await writeFile(confFile, `${text}\n${opts.extraConf ?? ""}\n`);
      const storeDir = join(dir, name);
      await mkdir(storeDir);
      nodes.push(new ClusterNode(name, ports[name], confFile, storeDir));
    }
    return new NatsCluster(dir, nodes, common.dropped);
  }

  /** Client URLs of all nodes, for `connect({ servers })`. */
  get servers(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** The comma-separated form NATS_URL takes. */
  get natsUrl(): string {
    return this.servers.join(",");
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node '${name}' (nodes: ${NODE_NAMES.join(", ")})`);
    return node;
  }

  /** The meta leader every running node agrees on, with every running follower current; else undefined. */
  async metaLeader(): Promise<string | undefined> {
    const running = this.nodes.filter((n) => n.isRunning);
    const views = await Promise.all(running.map((n) => n.jsz()));
    const leaders = new Set(views.map((v) => v?.meta_cluster?.leader ?? ""));
    const [leader] = leaders;
    if (leaders.size !== 1 || !leader || !running.some((n) => n.name === leader)) return undefined;
    const view = views[running.findIndex((n) => n.name === leader)];
    const current = new Set((view?.meta_cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name));
    return running.every((n) => n.name === leader || current.has(n.name)) ? leader : undefined;
  }

  async waitForMetaLeader(timeoutMs = START_TIMEOUT_MS): Promise<string> {
    let leader: string | undefined;
    await until(async () => (leader = await this.metaLeader()) !== undefined, {
      name: "JetStream meta leader agreed by all running nodes",
      timeoutMs,
    });
    return leader!;
  }

  /** The leader of `stream` as every running node reports it in /jsz, or undefined. */
  async streamLeader(stream: string, account = "$G"): Promise<string | undefined> {
    const running = this.nodes.filter((n) => n.isRunning);
    const query = `?acc=${encodeURIComponent(account)}&streams=true`;
    const views = await Promise.all(running.map((n) => n.jsz(query)));
    const leaders = new Set(
      views.map((v) => v?.account_details?.find((a) => a.name === account)?.stream_detail?.find((s) => s.name === stream)?.cluster?.leader ?? ""),
    );
    const [leader] = leaders;
    return leaders.size === 1 && leader && running.some((n) => n.name === leader) ? leader : undefined;
  }

  async waitForStreamLeader(stream: string, timeoutMs = START_TIMEOUT_MS): Promise<string> {
    let leader: string | undefined;
    await until(async () => (leader = await this.streamLeader(stream)) !== undefined, {
      name: `stream ${stream} leader agreed by all running nodes`,
      timeoutMs,
    });
    return leader!;
  }

  /** Kills one node (SIGKILL by default: no shutdown, no flush) and waits for it to exit. */
  async kill(name: string, sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.node(name).halt(sig);
  }

  /** Starts a stopped node again on the same ports and store; waits for a meta leader. */
  async restart(name: string): Promise<void> {
    const node = this.node(name);
    await node.halt();
    await node.launch();
    await this.waitForMetaLeader();
  }

  /** Stops every node and removes the temp dir (stores included). */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.halt()));
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
