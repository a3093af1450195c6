/**
 * A fake APNs (test/support/fake-apns.ts: HTTP/2 + TLS with client certificates, 500 streams, no
 * per-push records) in its own child process, so that it never shares an event loop with what is
 * measured. `startFakeApnsProcess` forks this file; the child answers `count` with the pushes it
 * has accepted so far.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { startFakeApns, type FakeApns } from '../../test/support/fake-apns';
import type { TestPki } from '../../test/support/certs';
import { TS_HOOK } from './ts-hook';

const CHILD_FLAG = '--fake-apns-process';

export interface FakeApnsProcess {
  port: number;
  url: string;
  /** Requests the fake has answered so far. */
  count(): Promise<number>;
  stop(): Promise<void>;
}

function ask<T extends { type: string }>(child: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: T) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send(msg);
  });
}

/** Starts the fake with a server certificate from `pki`, trusting pass certificates it issued. */
export async function startFakeApnsProcess(pki: TestPki): Promise<FakeApnsProcess> {
  const server = pki.issueServerCertificate(['127.0.0.1']);
  const child = fork(__filename, [CHILD_FLAG], { execArgv: ['-r', TS_HOOK] });
  const { port } = await ask<{ type: string; port: number }>(
    child,
    {
      type: 'start',
      certPem: server.certPem,
      keyPem: server.keyPem,
      caPem: [pki.wwdr.certPem, pki.root.certPem],
    },
    'ready',
  );
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    count: async () => (await ask<{ type: string; count: number }>(child, { type: 'count' }, 'count')).count,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill();
    },
  };
}

if (process.argv.includes(CHILD_FLAG)) {
  let fake: FakeApns | undefined;
  process.on('message', (msg: { type: string; certPem?: string; keyPem?: string; caPem?: string[] }) => {
    if (msg.type === 'start') {
      void startFakeApns({
        certPem: msg.certPem!,
        keyPem: msg.keyPem!,
        caPem: msg.caPem!,
        maxConcurrentStreams: 500,
        recordPushes: false,
      }).then((f) => {
        fake = f;
        process.send?.({ type: 'ready', port: f.port });
      });
    } else if (msg.type === 'count') {
      process.send?.({ type: 'count', count: fake?.count ?? 0 });
    } else if (msg.type === 'stop') {
      void fake?.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}
