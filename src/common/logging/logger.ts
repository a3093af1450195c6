import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';

/** Paths whose values never reach a log line, wherever they appear. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'privateKeyPem',
  '*.privateKeyPem',
  '*.*.privateKeyPem',
  'privateKeyPassphrase',
  '*.privateKeyPassphrase',
  '*.*.privateKeyPassphrase',
  'serviceAccountKey',
  '*.serviceAccountKey',
  '*.*.serviceAccountKey',
  'private_key',
  '*.private_key',
  'passphrase',
  '*.passphrase',
  'authenticationToken',
  '*.authenticationToken',
  'apiKey',
  '*.apiKey',
];

const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

/** PostgreSQL messages that quote the offending input value (`…: "value"`). */
const PG_VALUE_IN_MESSAGE =
  /((?:invalid input (?:syntax|value) for [^:\n]*|invalid byte sequence for encoding [^:\n]*|malformed [^:\n]*literal): ).*/g;

/** The fields of a PostgreSQL error that name what failed, never the data it failed on. */
const DATABASE_ERROR_FIELDS = [
  'code',
  'severity',
  'constraint',
  'table',
  'column',
  'schema',
  'routine',
] as const;

function scrubText(text: string, database: boolean): string {
  const out = text.replace(PEM_PRIVATE, '[redacted private key]');
  return database ? out.replace(PG_VALUE_IN_MESSAGE, '$1[value redacted]') : out;
}

function isDatabaseError(err: Record<string, unknown>): boolean {
  return (
    'driverError' in err ||
    'parameters' in err ||
    (typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && 'severity' in err)
  );
}

/**
 * pino's error serializer, minus what must never reach a log: PEM private keys in any text, HTTP
 * client internals (gaxios `config`/`response` carry tokens), and for database errors everything
 * but the names of what failed — TypeORM's QueryFailedError carries the statement's parameters
 * and PostgreSQL's `detail` ("Failing row contains (…)") and `where`, which hold the row's data.
 * The statement text is kept (it has placeholders, not values).
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) return { message: String(err) };
  const s = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const database = isDatabaseError(s);
  if (database) {
    const kept: Record<string, unknown> = { type: s.type, message: s.message, stack: s.stack };
    for (const field of DATABASE_ERROR_FIELDS) if (s[field] !== undefined) kept[field] = s[field];
    if (typeof s.query === 'string') kept.query = s.query.slice(0, 2000);
    for (const key of Object.keys(s)) delete s[key];
    Object.assign(s, kept);
  }
  if (typeof s.message === 'string') s.message = scrubText(s.message, database);
  if (typeof s.stack === 'string') s.stack = scrubText(s.stack, database);
  delete s.config;
  delete s.response;
  return s;
}

export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'wallet-service', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      // Last line of defence: a PEM private key inside any message or error text is cut out.
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a: unknown) =>
            typeof a === 'string' ? a.replace(PEM_PRIVATE, '[redacted private key]') : a,
          );
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      serializers: {
        err: serializeError,
      },
    },
    destination,
  );
}

/** Nest's Logger API on top of pino. Accepts Nest's (message, context) and pino's (object, message) forms. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    rest: unknown[],
  ): void {
    // Nest appends the context (class name) as the last string argument.
    const context =
      rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      const msg = typeof rest[0] === 'string' ? rest[0] : undefined;
      this.root[level]({ context, ...message }, msg);
    } else if (message instanceof Error) {
      this.root[level]({ context, err: message }, message.message);
    } else {
      const stack = level === 'error' && typeof rest[0] === 'string' ? rest[0] : undefined;
      this.root[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
