import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApns, startFakeApns } from './fake-apns';
import { sharedPki } from './fixtures';

/** APNs endpoint settings for an app under test: the fake's URL and a CA file that trusts it. */
export function apnsEnv(apns: FakeApns): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'apns-ca-'));
  const file = join(dir, 'ca.pem');
  writeFileSync(file, sharedPki().root.certPem);
  return { APNS_URL: apns.url, APNS_CA_FILE: file };
}

/** A fake APNs whose server certificate chains to the shared test root and that requires pass certificates. */
export async function startApns(maxConcurrentStreams?: number): Promise<FakeApns> {
  const pki = sharedPki();
  const server = pki.issueServerCertificate(['127.0.0.1', 'localhost']);
  return startFakeApns({
    certPem: server.certPem,
    keyPem: server.keyPem,
    caPem: [pki.wwdr.certPem, pki.root.certPem],
    maxConcurrentStreams,
  });
}
