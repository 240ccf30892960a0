/**
 * An async readers-writer lock: any number of readers at once, or one writer. A waiting writer
 * holds back readers that arrive after it, so a steady flow of queries cannot starve it.
 */
export class ReadWriteLock {
  private readers = 0;
  /** Settles when the current (or queued) writer is done. */
  private writer: Promise<void> | null = null;
  private onDrained: (() => void) | null = null;

  async read<T>(fn: () => Promise<T>): Promise<T> {
    while (this.writer) await this.writer;
    this.readers++;
    try {
      return await fn();
    } finally {
      this.readers--;
      if (this.readers === 0) this.onDrained?.();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    while (this.writer) await this.writer;
    let release!: () => void;
    this.writer = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      if (this.readers > 0) {
        await new Promise<void>((resolve) => {
          this.onDrained = resolve;
        });
      }
      this.onDrained = null;
      return await fn();
    } finally {
      this.writer = null;
      release();
    }
  }
}
