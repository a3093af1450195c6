/**
 * Coalesces calls that arrive close together into one batched operation (one SQL statement, one
 * Redis script call), so that under load the per-call cost of a round trip, a socket write and a
 * commit is paid once per batch instead of once per request.
 *
 * Flush policy ("natural batching"): the first call schedules a flush for the end of the current
 * event-loop turn (setImmediate), so calls parsed in the same I/O phase share it and an idle
 * service adds no delay. While `maxInFlight` batches are running, calls wait and go together as
 * soon as one finishes: the busier the service, the larger the batches, up to `maxBatch`.
 *
 * `keyOf` (optional) keeps two calls with the same key out of one batch (a SQL upsert may not
 * touch one row twice); the later call goes in a following batch, in order.
 *
 * `run` answers one result per item, in order. When it throws, every call of that batch rejects
 * with the error (callers that can retry one by one do so in `run` itself).
 */
export interface MicroBatcherOptions<I, O> {
  run: (items: I[]) => Promise<O[]>;
  maxBatch: number;
  maxInFlight: number;
  keyOf?: (item: I) => string;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: MicroBatcherOptions<I, O>) {
    if (options.maxBatch < 1 || options.maxInFlight < 1) {
      throw new Error('MicroBatcher needs maxBatch and maxInFlight of at least 1');
    }
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Calls waiting for a batch (not counting running ones). */
  get waiting(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.execute(batch);
    }
  }

  /** Takes up to maxBatch calls from the head of the queue, skipping (and keeping) repeated keys. */
  private take(): Pending<I, O>[] {
    const { maxBatch, keyOf } = this.options;
    if (!keyOf) return this.queue.splice(0, maxBatch);
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const keys = new Set<string>();
    for (const p of this.queue) {
      const key = keyOf(p.item);
      if (batch.length < maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(p);
      } else {
        rest.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async execute(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await this.options.run(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`batch answered ${results.length} results for ${batch.length} items`);
      }
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      if (this.queue.length > 0) this.flush();
    }
  }
}
