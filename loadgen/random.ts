/**
 * A small seeded PRNG (mulberry32) so a run's sequence of images, texts and think times can be
 * repeated with --seed. Statistical quality is ample for picking items; it is not for cryptography.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** Uniform in [min, max]. */
export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random.next();
}
