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
        err: (err: unknown) => {
          const s = pino.stdSerializers.err(err as Error);
          if (typeof s.message === 'string')
            s.message = s.message.replace(PEM_PRIVATE, '[redacted private key]');
          if (typeof s.stack === 'string') s.stack = s.stack.replace(PEM_PRIVATE, '[redacted private key]');
          delete (s as Record<string, unknown>).config;
          delete (s as Record<string, unknown>).response;
          return s;
        },
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
