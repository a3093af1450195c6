import { MicroBatcher } from './micro-batcher';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('MicroBatcher', () => {
  it('runs calls of one event-loop turn as one batch and answers each its own result', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>({
      run: (items) => {
        batches.push(items);
        return Promise.resolve(items.map((x) => x * 10));
      },
      maxBatch: 100,
      maxInFlight: 1,
    });
    const results = await Promise.all([1, 2, 3].map((x) => b.submit(x)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('queues while maxInFlight batches run, then sends what waited together, in maxBatch slices', async () => {
    const batches: number[][] = [];
    const gates: { resolve: (v: number[]) => void }[] = [];
    const b = new MicroBatcher<number, number>({
      run: (items) => {
        batches.push(items);
        const d = deferred<number[]>();
        gates.push({ resolve: d.resolve });
        return d.promise;
      },
      maxBatch: 2,
      maxInFlight: 1,
    });
    const first = b.submit(1);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    const later = [2, 3, 4].map((x) => b.submit(x));
    await new Promise((r) => setImmediate(r));
    expect(batches).toHaveLength(1); // still one in flight
    expect(b.waiting).toBe(3);
    gates[0]!.resolve([1]);
    await first;
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3]]);
    gates[1]!.resolve([2, 3]);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3], [4]]);
    gates[2]!.resolve([4]);
    await expect(Promise.all(later)).resolves.toEqual([2, 3, 4]);
  });

  it('never puts two items with one key in a batch, and keeps their order', async () => {
    const batches: string[][] = [];
    const b = new MicroBatcher<string, string>({
      run: (items) => {
        batches.push(items);
        return Promise.resolve(items);
      },
      maxBatch: 10,
      maxInFlight: 1,
      keyOf: (s) => s.split(':')[0]!,
    });
    await Promise.all(['a:1', 'b:1', 'a:2', 'c:1', 'a:3', 'b:2'].map((s) => b.submit(s)));
    expect(batches).toEqual([['a:1', 'b:1', 'c:1'], ['a:2', 'b:2'], ['a:3']]);
  });

  it('rejects every call of a failed batch and goes on with the next', async () => {
    let calls = 0;
    const b = new MicroBatcher<number, number>({
      run: (items) => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('boom'));
        return Promise.resolve(items);
      },
      maxBatch: 10,
      maxInFlight: 1,
    });
    const failed = [1, 2].map((x) => b.submit(x));
    await expect(Promise.all(failed)).rejects.toThrow('boom');
    await expect(failed[1]).rejects.toThrow('boom');
    await expect(b.submit(3)).resolves.toBe(3);
  });

  it('rejects a batch whose run answers the wrong number of results', async () => {
    const b = new MicroBatcher<number, number>({
      run: () => Promise.resolve([1]),
      maxBatch: 10,
      maxInFlight: 1,
    });
    await expect(Promise.all([b.submit(1), b.submit(2)])).rejects.toThrow('1 results for 2 items');
  });
});
