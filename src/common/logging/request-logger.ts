import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

type LogArgs = [obj?: unknown, msg?: unknown, ...rest: unknown[]];

/**
 * The per-request logger Fastify hands to every request (`req.log`), made without a pino child.
 *
 * Fastify creates a child logger per request to bind `reqId`; with redaction configured, each
 * pino child costs several microseconds (bindings serialised through the redactor) even when the
 * request never logs. This logger keeps the bindings and writes through the root logger, merging
 * them into each line: the same JSON fields (`reqId`, and `tenantId` once authenticated), the
 * same redaction and serializers, and nothing done for requests that log nothing. `child()`
 * answers another such logger with the bindings merged.
 */
export class RequestLogger {
  constructor(
    private readonly root: Logger,
    private readonly bindings: Bindings,
    private readonly options?: ChildLoggerOptions,
  ) {}

  /** Fastify's `childLoggerFactory`: (logger, bindings, options) → the request's logger. */
  static factory(root: Logger) {
    return (_logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger =>
      new RequestLogger(root, bindings, options);
  }

  get level(): string {
    return this.options?.level ?? this.root.level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): RequestLogger {
    return new RequestLogger(this.root, { ...this.bindings, ...bindings }, { ...this.options, ...options });
  }

  isLevelEnabled(level: Level): boolean {
    const threshold = this.root.levels.values[this.level] ?? 0;
    return (this.root.levels.values[level] ?? 0) >= threshold;
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }
  error(...args: LogArgs): void {
    this.write('error', args);
  }
  warn(...args: LogArgs): void {
    this.write('warn', args);
  }
  info(...args: LogArgs): void {
    this.write('info', args);
  }
  debug(...args: LogArgs): void {
    this.write('debug', args);
  }
  trace(...args: LogArgs): void {
    this.write('trace', args);
  }
  silent(): void {
    // Nothing: the silent level never writes.
  }

  private write(level: Level, args: LogArgs): void {
    if (!this.isLevelEnabled(level)) return;
    const [first, ...rest] = args;
    let merged: Record<string, unknown>;
    if (first instanceof Error) {
      // pino's own form for log.error(err, msg?): the error under `err`, its message as default.
      merged = { ...this.bindings, err: first };
      if (rest.length === 0) rest.push(first.message);
    } else if (typeof first === 'object' && first !== null) {
      merged = { ...this.bindings, ...(first as Record<string, unknown>) };
    } else {
      merged = { ...this.bindings };
      if (first !== undefined) rest.unshift(first);
    }
    const method: (obj: object, ...more: unknown[]) => void = this.root[level];
    method.call(this.root, merged, ...rest);
  }
}
