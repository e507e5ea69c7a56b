/**
 * Runs inside a worker_threads thread: owns the onnxruntime session. onnxruntime-node 1.30's session.run blocks
 * its thread for the whole inference (a 5 ms timer stalled 280 ms), so keeping it here leaves the worker process's
 * main thread free to heartbeat (working()), ack and answer the supervisor while a batch runs.
 */
import { parentPort, workerData } from "node:worker_threads";
import ort from "onnxruntime-node";
import type { SessionRequest, SessionReply, SessionThreadOptions } from "./session-protocol.ts";

const options = (workerData as { options: SessionThreadOptions }).options;
const port = parentPort!;

async function open(): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(options.onnxPath, {
    executionProviders: [options.executionProvider],
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    // Idle intra-op threads spin-wait by default. In the service the session shares the cores with preprocessing,
    // the bus and the resize thread, and spinning burned ~1.7 ms CPU per verdict on the tiny model; off, tiny-model
    // throughput rose ~20 % and OFA-large did not change (bench/README.md). A raw session.run loop alone prefers it on.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
}

const ready = open();

async function run(request: Extract<SessionRequest, { kind: "run" }>): Promise<SessionReply> {
  const session = await ready;
  const { feed } = request;
  const names = options.inputNames;
  const started = performance.now();
  const outputs = await session.run({
    [names.inputIds]: new ort.Tensor("int64", feed.inputIds, [feed.batch, feed.textLength]),
    [names.patchImages]: new ort.Tensor("float32", feed.images, [feed.batch, 3, feed.imageSize, feed.imageSize]),
    [names.decoderInputIds]: new ort.Tensor("int64", feed.decoderIds, [feed.batch, feed.decoderLength]),
  });
  const tensor = outputs[options.outputName];
  if (!tensor) throw new Error(`model has no output ${options.outputName}`);
  const logits = Float32Array.from(tensor.data as Float32Array);
  return { kind: "result", id: request.id, logits, columns: Number(tensor.dims[1]), runMs: performance.now() - started };
}

port.on("message", (request: SessionRequest) => {
  const reply =
    request.kind === "run"
      ? run(request)
      : ready.then((): SessionReply => ({ kind: "loaded", id: request.id }));
  reply.then(
    (r) => port.postMessage(r, r.kind === "result" ? [r.logits.buffer as ArrayBuffer] : []),
    (err: unknown) => port.postMessage({ kind: "error", id: request.id, message: err instanceof Error ? err.message : String(err) } satisfies SessionReply),
  );
});
