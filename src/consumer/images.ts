/** Images sent out of band: the SDK puts large images in a NATS object store; the worker reads them and deletes them once answered. */
import type { NatsConnection } from "@nats-io/transport-node";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { ErrorCode, VerdictError, type ImageRef } from "../protocol/index.ts";

export class ImageStore {
  private readonly buckets = new Map<string, Promise<ObjectStore>>();

  private readonly nc: NatsConnection;
  private readonly maxImageBytes: number;
  constructor(
    nc: NatsConnection,
    maxImageBytes: number,
  ) {
    this.nc = nc;
    this.maxImageBytes = maxImageBytes;
  }

  private bucket(name: string): Promise<ObjectStore> {
    let store = this.buckets.get(name);
    if (!store) {
      store = new Objm(this.nc).open(name);
      store.catch(() => this.buckets.delete(name));
      this.buckets.set(name, store);
    }
    return store;
  }

  async read(ref: ImageRef): Promise<Uint8Array> {
    let store: ObjectStore;
    try {
      store = await this.bucket(ref.bucket);
    } catch (err) {
      throw new VerdictError(ErrorCode.IMAGE_REF_NOT_FOUND, `object store bucket ${ref.bucket} not found`, { cause: err });
    }
    const info = await store.info(ref.name);
    if (!info || info.deleted) throw new VerdictError(ErrorCode.IMAGE_REF_NOT_FOUND, `object ${ref.bucket}/${ref.name} not found`);
    if (info.size > this.maxImageBytes) {
      throw new VerdictError(ErrorCode.PAYLOAD_TOO_LARGE, `object ${ref.name} has ${info.size} bytes; the limit is ${this.maxImageBytes}`);
    }
    const bytes = await store.getBlob(ref.name);
    if (!bytes) throw new VerdictError(ErrorCode.IMAGE_REF_NOT_FOUND, `object ${ref.bucket}/${ref.name} not found`);
    return bytes;
  }

  /** Best effort: a leftover object is only storage, and the bucket's TTL removes it eventually. */
  async delete(ref: ImageRef): Promise<void> {
    try {
      await (await this.bucket(ref.bucket)).delete(ref.name);
    } catch {
      // already gone
    }
  }
}
