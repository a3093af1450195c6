import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createRootLogger } from './logger';
import { RequestLogger } from './request-logger';

function capture(level = 'info'): { root: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString('utf8'));
      cb();
    },
  });
  const root = createRootLogger(level, sink);
  return {
    root,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('RequestLogger', () => {
  it('writes the bindings, the object and the message in one line, through the root', () => {
    const { root, lines } = capture();
    const log = new RequestLogger(root, { reqId: 'r-1' });
    log.info({ route: '/x', status: 200 }, 'request completed');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'info',
        reqId: 'r-1',
        route: '/x',
        status: 200,
        msg: 'request completed',
        service: 'wallet-service',
      }),
    ]);
  });

  it('adds the bindings of child() to later lines', () => {
    const { root, lines } = capture();
    const log = new RequestLogger(root, { reqId: 'r-2' }).child({ tenantId: 't-9' });
    log.warn('plain message %s', 'formatted');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        reqId: 'r-2',
        tenantId: 't-9',
        msg: 'plain message formatted',
      }),
    ]);
  });

  it('logs an Error as pino does: under err, its message as the default message', () => {
    const { root, lines } = capture();
    const log = new RequestLogger(root, { reqId: 'r-3' });
    log.error(new Error('boom'));
    log.error(new Error('bang'), 'while doing it');
    const [a, b] = lines();
    expect(a).toMatchObject({
      level: 'error',
      reqId: 'r-3',
      msg: 'boom',
      err: { message: 'boom', type: 'Error' },
    });
    expect(b).toMatchObject({ msg: 'while doing it', err: { message: 'bang' } });
  });

  it('keeps the root redaction and skips levels below the threshold', () => {
    const { root, lines } = capture('warn');
    const log = new RequestLogger(root, { reqId: 'r-4' });
    log.info({ a: 1 }, 'not written');
    log.debug('not written either');
    log.warn({ headers: { authorization: 'Bearer secret-value' }, privateKeyPem: 'x' }, 'redacted');
    const written = lines();
    expect(written).toHaveLength(1);
    expect(JSON.stringify(written[0])).not.toContain('secret-value');
    expect(written[0]).toMatchObject({
      headers: { authorization: '[redacted]' },
      privateKeyPem: '[redacted]',
    });
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('error')).toBe(true);
  });

  it("honours a route's own level given by Fastify", () => {
    const { root, lines } = capture('info');
    const log = new RequestLogger(root, { reqId: 'r-5' }, { level: 'error' });
    expect(log.level).toBe('error');
    log.warn('dropped');
    log.error('kept');
    expect(lines().map((l) => l.msg)).toEqual(['kept']);
  });
});
