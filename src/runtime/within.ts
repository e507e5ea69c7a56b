/**
 * Bounded waiting: shutdown steps that talk to the broker (drain, flush, stop) can hang for minutes when it is
 * wedged or gone, so every such step is awaited for at most a fixed time and then abandoned.
 */

/** Resolves true when `work` settles (fulfilled or rejected) within `ms`, false when the time ran out first. */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
