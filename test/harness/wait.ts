/** Named, bounded waits: no bare sleeps as synchronisation in tests. */
export interface UntilOptions {
  name: string;
  timeoutMs: number;
  intervalMs?: number;
}

export async function until(pred: () => boolean | Promise<boolean>, opts: UntilOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for: ${opts.name}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** Resolves when `count` calls to `countDown()` happened; rejects after timeoutMs with its name. */
export function latch(count: number, name: string, timeoutMs: number): { countDown(): void; wait(): Promise<void>; remaining(): number } {
  let left = count;
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  if (left <= 0) release();
  return {
    countDown() {
      left -= 1;
      if (left === 0) release();
    },
    remaining: () => left,
    async wait() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`latch '${name}' timed out with ${left} of ${count} left`)), timeoutMs);
      });
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
