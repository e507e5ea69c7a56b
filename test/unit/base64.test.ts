/** image.data must be strict standard base64: the check is "re-encoding the decoded bytes gives the input back". */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, VerdictError, parseRequest } from "../../src/protocol/index.ts";

const limits = { maxPayloadBytes: 1 << 20, maxTextChars: 100 };

function codeFor(data: string): string | undefined {
  try {
    parseRequest(Buffer.from(JSON.stringify({ v: 1, text: "x", image: { data } })), limits);
    return undefined;
  } catch (err) {
    return err instanceof VerdictError ? err.code : "other";
  }
}

test("base64 - standard base64 of any length decodes to the original bytes", () => {
  for (let n = 1; n < 40; n++) {
    const original = Buffer.from(Array.from({ length: n }, (_, i) => (i * 97 + n) & 255));
    const r = parseRequest(Buffer.from(JSON.stringify({ v: 1, text: "x", image: { data: original.toString("base64") } })), limits);
    assert.ok(r.image.kind === "inline" && r.image.bytes.equals(original), `length ${n}`);
  }
});

test("base64 - URL-safe characters, missing or inner padding, whitespace and stray characters are refused", () => {
  const good = Buffer.from([0xfb, 0xff, 0xbf, 0x01]).toString("base64"); // "+/+/AQ==": uses both + and /
  assert.equal(codeFor(good), undefined);
  for (const bad of [good.replace(/\+/g, "-").replace(/\//g, "_"), good.replace(/=+$/, ""), "QQ==QQ==", "QUJD\nREVG", "QUJD REVG", "QUJD!EVG", "QR=="]) {
    assert.equal(codeFor(bad), ErrorCode.IMAGE_BASE64, JSON.stringify(bad));
  }
  assert.equal(codeFor(""), ErrorCode.IMAGE_EMPTY);
});
