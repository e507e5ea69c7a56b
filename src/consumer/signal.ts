/** A level-free wake-up: `wait()` resolves at the next `notify()` (or at once if one is pending). */
export class Signal {
  private pending = false;
  private waiters: Array<() => void> = [];

  notify(): void {
    if (this.waiters.length === 0) {
      this.pending = true;
      return;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (timeoutMs !== undefined) setTimeout(resolve, timeoutMs).unref();
    });
  }
}
