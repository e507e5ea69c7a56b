/**
 * Verdict cache in a NATS KV bucket: key = sha256(model version, text, premise, sha256(image bytes)), value =
 * label+scores. A repeated (image, text) pair is answered without running the model, whether it was asked alone or
 * as one hypothesis of a policy list (the key is per hypothesis, and the image is hashed once per request). The bucket's max_age is the TTL
 * (nats-server 2.9 ignores per-key TTLs). Cache faults never fail a request: they count as misses.
 */
import { createHash } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import type { AnswerScores } from "../model/index.ts";
import { CACHE_BUCKET } from "../protocol/index.ts";

export class VerdictCache {
  private readonly kv: KV;
  private constructor(kv: KV) {
    this.kv = kv;
  }

  static async open(nc: NatsConnection): Promise<VerdictCache> {
    return new VerdictCache(await new Kvm(nc).open(CACHE_BUCKET));
  }

  static key(image: Uint8Array, text: string, premise: string | undefined, modelVersion: string): string {
    return VerdictCache.keys(image, [text], premise, modelVersion)[0]!;
  }

  /** One key per text, for one image: the image is hashed once. */
  static keys(image: Uint8Array, texts: readonly string[], premise: string | undefined, modelVersion: string): string[] {
    const imageDigest = createHash("sha256").update(image).digest();
    return texts.map((text) => {
      const h = createHash("sha256");
      for (const part of [modelVersion, text, premise ?? "\u0000no-premise"]) h.update(part).update("\u0000");
      return h.update(imageDigest).digest("hex");
    });
  }

  async get(key: string): Promise<AnswerScores | undefined> {
    try {
      const entry = await this.kv.get(key);
      return entry && entry.operation === "PUT" && entry.length > 0 ? (entry.json() as AnswerScores) : undefined;
    } catch {
      return undefined;
    }
  }

  async put(key: string, answer: AnswerScores): Promise<void> {
    try {
      await this.kv.put(key, JSON.stringify(answer));
    } catch {
      // a failed cache write costs one future model run, nothing else
    }
  }
}
