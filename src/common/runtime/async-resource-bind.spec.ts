import { AsyncLocalStorage, AsyncResource, executionAsyncId } from 'node:async_hooks';
import { installFastAsyncResourceBind } from './async-resource-bind';

describe('installFastAsyncResourceBind', () => {
  beforeAll(() => installFastAsyncResourceBind());

  it('runs the bound function in the async context the resource was made in', async () => {
    const als = new AsyncLocalStorage<string>();
    const [bound, resourceId] = als.run('inside', () => {
      const resource = new AsyncResource('spec');
      return [
        resource.bind(() => [als.getStore(), executionAsyncId()] as const),
        resource.asyncId(),
      ] as const;
    });
    // Called later from another context, it still sees the store of where it was bound.
    const seen = await als.run('elsewhere', () => new Promise((r) => setImmediate(() => r(bound()))));
    expect(seen).toEqual(['inside', resourceId]);
  });

  it("keeps the caller's this, or thisArg when given, passes arguments, and keeps length", () => {
    const resource = new AsyncResource('spec');
    function f(this: { n: number } | undefined, a: number, b: number) {
      return (this?.n ?? 0) + a + b;
    }
    // @types/node declares bind(fn) only; Node takes bind(fn, thisArg).
    const bind = resource.bind.bind(resource) as (
      fn: unknown,
      thisArg?: unknown,
    ) => (...a: unknown[]) => unknown;
    const free = bind(f);
    expect(free.length).toBe(2);
    expect(free.call({ n: 100 }, 1, 2)).toBe(103);
    const fixed = bind(f, { n: 10 });
    expect(fixed.length).toBe(2);
    expect(fixed.call({ n: 100 }, 1, 2)).toBe(13);
    const staticBind = AsyncResource.bind.bind(AsyncResource) as (
      fn: unknown,
      type: string,
      thisArg: unknown,
    ) => (...a: unknown[]) => unknown;
    expect(staticBind(f, 'static', { n: 1 })(1, 1)).toBe(3);
  });

  it("still rejects a non-function with Node's own error", () => {
    expect(() => new AsyncResource('spec').bind(42 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }) as Error,
    );
  });

  it('is cheap: no deprecated accessor per call (the point of installing it)', () => {
    const bound = new AsyncResource('spec').bind(() => 1);
    expect(Object.getOwnPropertyDescriptor(bound, 'asyncResource')).toBeUndefined();
  });

  it('installs once', () => {
    const first = AsyncResource.prototype.bind;
    installFastAsyncResourceBind();
    expect(AsyncResource.prototype.bind).toBe(first);
  });
});
