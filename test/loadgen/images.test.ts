import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { LoadgenError, LoadgenErrorCode } from "../../loadgen/index.ts";
import { generateImages, loadImages, withUniqueTrailer } from "../../loadgen/images.ts";
import { seededRandom } from "../../loadgen/random.ts";

test("loadgen images - generated images cycle JPEG, PNG and WebP with sides spread from min to max", async () => {
  const images = await generateImages(4, 224, 320, seededRandom(1));
  assert.deepEqual(images.map((i) => i.format), ["jpeg", "png", "webp", "jpeg"]);
  assert.deepEqual(images.map((i) => i.width), [224, 256, 288, 320]);
  for (const img of images) {
    const meta = await sharp(img.bytes).metadata();
    assert.equal(meta.format, img.format);
    assert.equal(meta.width, img.width);
  }
});

test("loadgen images - the per-request trailer changes the bytes but not one decoded pixel", async () => {
  for (const img of await generateImages(3, 224, 240, seededRandom(2))) {
    const unique = withUniqueTrailer(img.bytes, "lg-test-1");
    assert.notDeepEqual(Buffer.from(unique), Buffer.from(img.bytes));
    // failOn "error" is how the service decodes (src/model/preprocess.ts): the trailer must not even warn it off.
    const a = await sharp(img.bytes, { failOn: "error" }).raw().toBuffer();
    const b = await sharp(unique, { failOn: "error" }).raw().toBuffer();
    assert.ok(a.equals(b), `${img.format}: same pixels`);
  }
});

test("loadgen images - a directory without images fails with OFA_LOADGEN_ERR_IMAGES", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "ofa-loadgen-images-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "notes.txt"), "not an image");
  await assert.rejects(loadImages({ kind: "dir", dir }, seededRandom(3)), (err: unknown) => err instanceof LoadgenError && err.code === LoadgenErrorCode.IMAGES);
  const [img] = await generateImages(1, 224, 224, seededRandom(4));
  await writeFile(join(dir, "a.jpg"), img!.bytes);
  const loaded = await loadImages({ kind: "dir", dir }, seededRandom(5));
  assert.deepEqual(loaded.map((i) => [i.name, i.format, i.width]), [["a.jpg", "jpeg", 224]]);
});
