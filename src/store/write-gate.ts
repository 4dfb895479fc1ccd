// One writer at a time in this process, awaited rather than waited for: SQLite has one write lock,
// and the import's writer thread has a connection of its own. Without this gate a transaction of
// the main connection that met the thread's lock would stop the whole event loop in SQLite's busy
// wait, or fail outright (SQLITE_BUSY_SNAPSHOT) had it read before the thread committed.
export class WriteGate {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every writer queued before it has finished (FIFO). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((r) => (done = r));
    try {
      await before;
      return await fn();
    } finally {
      done();
    }
  }
}
