/**
 * Runs inside a worker_threads thread: owns the onnxruntime session. onnxruntime-node 1.30's session.run blocks
 * its thread for the whole inference (a 5 ms timer stalled 280 ms), so keeping it here leaves the worker process's
 * main thread free to heartbeat (working()), ack and answer the supervisor while a batch runs.
 */
import { parentPort, workerData } from "node:worker_threads";
import ort from "onnxruntime-node";
import { profilePlacement } from "./placement.ts";
import type { SessionRequest, SessionReply, SessionThreadOptions } from "./session-protocol.ts";
import { rowsRunner } from "./split-session.ts";

const options = (workerData as { options: SessionThreadOptions }).options;
const port = parentPort!;
const onGpu = options.executionProvider !== "cpu";
// On a GPU provider the first run is profiled: the profile names each node's provider, which is how /status learns
// what fell back to the CPU (the Node binding has no other way to ask). Profiling stops after that run.
const placement = onGpu ? profilePlacement() : undefined;
const sessions: ort.InferenceSession[] = [];

function open(path: string, gpuOutputs = false): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: [options.executionProvider],
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    // Idle intra-op threads spin-wait by default. In the service the session shares the cores with preprocessing,
    // the bus and the resize thread, and spinning burned ~1.7 ms CPU per verdict on the tiny model; off, tiny-model
    // throughput rose ~20 % and OFA-large did not change (bench/README.md). A raw session.run loop alone prefers it on.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
    // The split form's image state stays on the GPU between the two graphs (split-session.ts).
    ...(gpuOutputs ? { preferredOutputLocation: "gpu-buffer" as const } : {}),
    ...(placement ? { enableProfiling: true, profileFilePrefix: placement.prefix } : {}),
  }).then((session) => {
    sessions.push(session);
    return session;
  });
}

// One graph or the split pair (split-session.ts); both run the same row feeds.
const { ready, runner } = rowsRunner(options, open, ort.Tensor);
ready.catch(() => placement?.discard());

port.on("message", (request: SessionRequest) => {
  const reply = answer(request);
  reply.then(
    (r) => port.postMessage(r, r.kind === "rows" ? transferables(r) : []),
    (err: unknown) => port.postMessage({ kind: "error", id: request.id, message: err instanceof Error ? err.message : String(err) } satisfies SessionReply),
  );
});

async function answer(request: SessionRequest): Promise<SessionReply> {
  if (request.kind === "load") return ready.then(() => ({ kind: "loaded", id: request.id }));
  if (request.kind === "placement") return { kind: "placement", id: request.id, placement: placement?.result() };
  const rows = await runner.run(request.id, request.feed);
  if (placement && !placement.done) placement.collect(sessions, options.executionProvider);
  return rows;
}

function transferables(r: Extract<SessionReply, { kind: "rows" }>): ArrayBuffer[] {
  return [r.logits.buffer as ArrayBuffer, ...(r.embeds ? [r.embeds.data.buffer as ArrayBuffer] : [])];
}
