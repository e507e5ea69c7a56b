/**
 * A failed session.run is a typed OFA_ERR_MODEL_RUN (retryable, onnxruntime's own message and error kept as the
 * cause), not a plain Error: a real session on the tiny model, fed token ids outside its vocabulary.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadManifest } from "../../src/model/manifest.ts";
import { ModelSession } from "../../src/model/session.ts";
import { ErrorCode, OfaError } from "../../src/protocol/index.ts";
import { TINY_MODEL } from "../harness/service.ts";

test("model run error - a session.run that onnxruntime rejects becomes OFA_ERR_MODEL_RUN with the cause kept", async (t) => {
  const dir = await loadManifest(TINY_MODEL);
  const session = await ModelSession.open({
    onnxPath: dir.onnxPath("fp32"),
    executionProvider: "cpu",
    intraOpThreads: 1,
    inputNames: dir.manifest.inputs,
    outputName: dir.manifest.output,
  });
  t.after(() => session.close());
  const size = dir.manifest.image.size;
  // One row whose token ids lie far outside the vocabulary: the embedding Gather in onnxruntime refuses them.
  const feed = {
    rows: 1,
    imageSize: size,
    textLength: 4,
    decoderLength: 1,
    inputIds: BigInt64Array.from([0n, 1_000_000_000n, 1_000_000_000n, 2n]),
    decoderIds: new BigInt64Array(1),
    images: new Float32Array(3 * size * size),
    newImages: 1,
    embeds: new Float32Array(0),
    embedded: 0,
    embedTokens: 0,
    embedDim: 0,
    rowImage: new Int32Array([0]),
  };
  const err = await session.run(feed).then(
    () => assert.fail("session.run accepted a malformed feed"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OfaError, String(err));
  assert.equal(err.code, ErrorCode.MODEL_RUN);
  assert.equal(err.retryable, true);
  assert.match(err.message, /^session\.run failed: /);
  assert.ok(err.cause instanceof Error);
});
