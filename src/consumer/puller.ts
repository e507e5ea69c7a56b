/**
 * Pulls one lane's durable consumer with bounded fetches: each fetch asks for no more than the worker's free room,
 * so every message a worker receives is immediately held and heartbeated — none sits in a client buffer past its
 * ack wait (a known JetStream pitfall with large prefetch). Fetches expire quickly so a lost pull (broker restart)
 * is replaced within seconds.
 */
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../log/logger.ts";
import type { Lane } from "../protocol/index.ts";
import { WORKER_PULL_EXPIRES_MS } from "../ipc/messages.ts";
import { Signal } from "./signal.ts";

export interface Room {
  /** How many more messages this lane may request now. */
  available(lane: Lane): number;
  /** Messages requested by an open fetch and not yet received count against their lane. */
  reserve(lane: Lane, n: number): void;
  release(lane: Lane, n: number): void;
  readonly changed: Signal;
}

const FETCH_EXPIRES_MS = WORKER_PULL_EXPIRES_MS;
const ERROR_BACKOFF_MS = 500;
/** A fetch ends by itself within its expiry (the server's 408) or two missed idle heartbeats (1 s each) after it. */
const STOP_BOUND_MS = FETCH_EXPIRES_MS + 1_500;

export class LanePuller {
  private stopped = false;
  private current: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  private readonly lane: Lane;
  private readonly consumer: Pick<Consumer, "fetch">;
  private readonly room: Room;
  private readonly onMessage: (lane: Lane, msg: JsMsg) => void;
  private readonly logger: Logger;
  constructor(
    lane: Lane,
    consumer: Pick<Consumer, "fetch">,
    room: Room,
    onMessage: (lane: Lane, msg: JsMsg) => void,
    logger: Logger,
  ) {
    this.lane = lane;
    this.consumer = consumer;
    this.room = room;
    this.onMessage = onMessage;
    this.logger = logger;
  }

  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const want = this.room.available(this.lane);
      if (want <= 0) {
        await this.room.changed.wait(1_000);
        continue;
      }
      await this.fetchOnce(want);
    }
  }

  private async fetchOnce(want: number): Promise<void> {
    this.room.reserve(this.lane, want);
    let received = 0;
    try {
      this.current = await this.consumer.fetch({ max_messages: want, expires: FETCH_EXPIRES_MS });
      for await (const msg of this.current) {
        received += 1;
        this.room.release(this.lane, 1);
        this.onMessage(this.lane, msg);
      }
    } catch (err) {
      if (!this.stopped) {
        this.logger.warn({ err, lane: this.lane }, "pull failed; retrying");
        await new Promise((r) => setTimeout(r, ERROR_BACKOFF_MS));
      }
    } finally {
      this.room.release(this.lane, want - received);
      this.current = undefined;
    }
  }

  /**
   * Stops pulling; resolves when the loop has ended. The open fetch is not cancelled: JetStream (2.9) keeps a pull
   * request open until it expires whatever the client does, and a message it delivers to an inbox nobody listens on
   * any more waits an ack wait (30 s by default) before anyone gets it. So the fetch runs out (≤ FETCH_EXPIRES_MS) and
   * what it still brings reaches onMessage (a draining consumer serves it within its grace). Cancelled only if it
   * outlasts that.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.room.changed.notify();
    const ended = await Promise.race([this.loop?.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), STOP_BOUND_MS).unref())]);
    if (ended === false) this.current?.stop();
    await this.loop;
  }
}
