// Coalesces lookups made in the same turn of the event loop into one query (the DataLoader
// idea): a claim starts up to a hundred jobs at once, each wanting its own row, and on a busy
// machine every round trip to the database costs far more than the query.

export class BatchLoader<K, V> {
  private queue: { key: K; resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly fetch: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch = 500,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  private dispatch(): void {
    this.scheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += this.maxBatch) {
      const chunk = all.slice(i, i + this.maxBatch);
      const keys = [...new Set(chunk.map((q) => q.key))];
      this.fetch(keys).then(
        (found) => {
          for (const q of chunk) q.resolve(found.get(q.key));
        },
        (err: unknown) => {
          for (const q of chunk) q.reject(err);
        },
      );
    }
  }
}
