import { AsyncResource } from 'node:async_hooks';

/**
 * Makes `AsyncResource.prototype.bind` cheap on Node 20.
 *
 * Node 20's implementation gives every bound function a deprecated `asyncResource` accessor
 * (DEP0172) built with two `util.deprecate` wrappers, and each wrapper changes a function's
 * prototype: about 10 µs per call. Node calls it on hot paths of this service — once per HTTP/2
 * request in the APNs client (node:http2 `ClientHttp2Session.request`) and once per HTTP request
 * with a body in Fastify's content-type parser — so at 10,000 pushes/s it alone takes a tenth of
 * a core.
 *
 * The replacement does what `bind` is for, exactly as Node does it: the returned function runs
 * `fn` inside the resource's async scope (AsyncLocalStorage and async_hooks see the resource's
 * context), with the caller's `this` unless `thisArg` is given, and keeps `fn.length`. Only the
 * deprecated `asyncResource` property is left out; nothing in this service or its dependencies
 * reads it. Invalid arguments still go to Node's own implementation for its error.
 */
const INSTALLED = Symbol.for('wallet-service.fastAsyncResourceBind');

type AnyFunction = (...args: unknown[]) => unknown;
type BindFn = (this: AsyncResource, fn: AnyFunction, thisArg?: unknown) => AnyFunction;

export function installFastAsyncResourceBind(): void {
  const proto = AsyncResource.prototype as unknown as { bind: BindFn; [INSTALLED]?: true };
  if (proto[INSTALLED]) return;
  const nodeBind = proto.bind;
  proto.bind = function bind(this: AsyncResource, fn: AnyFunction, thisArg?: unknown): AnyFunction {
    if (typeof fn !== 'function') return nodeBind.call(this, fn, thisArg);
    return boundTo(this, fn, thisArg);
  };
  Object.defineProperty(proto, INSTALLED, { value: true });
}

function boundTo(resource: AsyncResource, fn: AnyFunction, thisArg: unknown): AnyFunction {
  const bound =
    thisArg === undefined
      ? function (this: unknown, ...args: unknown[]): unknown {
          return resource.runInAsyncScope(fn, this, ...args);
        }
      : (...args: unknown[]): unknown => resource.runInAsyncScope(fn, thisArg, ...args);
  Object.defineProperty(bound, 'length', {
    configurable: true,
    enumerable: false,
    writable: false,
    value: fn.length,
  });
  return bound;
}
