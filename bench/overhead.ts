/**
 * (d) Orchestrates the overhead probes (overhead-probe.ts): the bus probe against its own nats-server, fed by the
 * load process (load.ts: loadgen's runLoad) at saturation, and the preprocessing probe. Reports CPU ms per verdict for each party.
 */
import { join } from "node:path";
import { NatsServer } from "../test/harness/nats-server.ts";
import { runChild } from "./children.ts";
import type { LoadProgress, LoadResult, LoadSpec } from "./load.ts";
import type { ProbeProgress, ProbeResult, ProbeSpec, ResizeMode } from "./overhead-probe.ts";
import { cpuSeconds } from "./proc.ts";
import { provisionStreams } from "./service.ts";
import { cpuPerVerdict, type CpuSample } from "./stats.ts";

export interface BusOverhead {
  readonly maxBatch: number;
  readonly logLevel: string;
  readonly verdicts: number;
  /** CPU ms per verdict of the consumer process (the goal's "bus + protocol"), the broker and the publisher. */
  readonly cpuMsPerVerdict: Record<string, number>;
  readonly verdictsPerSec: number;
}

export interface PrepareOverhead {
  readonly imageSize: number;
  readonly resize: ResizeMode;
  readonly cpuMsPerRequest: number;
  readonly wallMsPerRequest: number;
  readonly tokeniseMs: number;
}

const STEADY_TRIM = 0.15;
const PUBLISH_WINDOW = 128;

export async function measureBus(modelDir: string, maxBatch: number, verdicts: number, logLevel: string, logDir: string, profileDir?: string): Promise<BusOverhead> {
  const nats = await NatsServer.start();
  try {
    await provisionStreams(nats.url);
    const probe = runChild<ProbeSpec, ProbeProgress, ProbeResult>(
      "./overhead-probe.ts",
      { mode: "bus", natsUrl: nats.url, modelDir, maxBatch, verdicts, logLevel },
      { logFile: join(logDir, `bus-${logLevel}.log`), execArgv: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [] },
    );
    const samples: CpuSample[] = [];
    let publisherPid = -1;
    probe.onProgress((p) =>
      samples.push({ done: p.done, cpu: { consumer: p.cpuSeconds, "nats-server": cpuSeconds(nats.pid ?? -1) ?? 0, publisher: cpuSeconds(publisherPid) ?? 0 } }),
    );
    // The load starts once the probe consumes, so the probe's CPU clock sees the whole run.
    await waitForFirstProgress(probe);
    const publisher = runChild<LoadSpec, LoadProgress, LoadResult>(
      "./load.ts",
      { mode: "saturate", natsUrl: nats.url, window: PUBLISH_WINDOW, durationMs: 3_600_000, maxCount: verdicts, timeoutMs: 60_000 },
      { logFile: join(logDir, `bus-${logLevel}.load.log`) },
    );
    publisherPid = publisher.pid;
    const [result, published] = await Promise.all([probe.result, publisher.result]);
    if (published.failed > 0) throw new Error(`bus probe: ${published.failed} requests failed: ${JSON.stringify(published.failures)}`);
    const cpu = cpuPerVerdict(samples, result.done, STEADY_TRIM) ?? { consumer: result.cpuMsPerItem };
    return { maxBatch, logLevel, verdicts: result.done, cpuMsPerVerdict: cpu, verdictsPerSec: 1000 / result.wallMsPerItem };
  } finally {
    await nats.stop();
  }
}

function waitForFirstProgress(probe: { onProgress(l: (p: ProbeProgress) => void): void; result: Promise<unknown> }): Promise<void> {
  return new Promise((resolve, reject) => {
    probe.onProgress(() => resolve());
    probe.result.catch(reject);
  });
}

export async function measurePrepare(modelDir: string, resize: ResizeMode, concurrency: number, durationMs: number, logDir: string): Promise<PrepareOverhead> {
  const spec: ProbeSpec = { mode: "prepare", modelDir, resize, concurrency, durationMs };
  const r = await runChild<ProbeSpec, ProbeProgress, ProbeResult>("./overhead-probe.ts", spec, { logFile: join(logDir, "prepare.log") }).result;
  return { imageSize: r.imageSize, resize, cpuMsPerRequest: r.cpuMsPerItem, wallMsPerRequest: r.wallMsPerItem, tokeniseMs: r.tokeniseMs ?? 0 };
}
