import { randomBytes } from 'node:crypto';
import { linkPath } from './fixtures';
import { checkPkpass } from './pkpass';
import { HttpResult, TestApp } from './test-app';

/** What an iPhone keeps after adding a pass. */
export interface InstalledPass {
  serialNumber: string;
  authenticationToken: string;
  passTypeIdentifier: string;
  passJson: Record<string, any>;
}

export function newPushToken(): string {
  return randomBytes(32).toString('hex');
}

export function newDeviceId(): string {
  return randomBytes(16).toString('hex');
}

type Requester = Pick<TestApp, 'request'>;

/** Taps an Apple link and reads the pass like Wallet does. */
export async function install(t: Requester, url: string, rootFile: string): Promise<InstalledPass> {
  const res = await t.request('GET', linkPath(url));
  if (res.status !== 200) throw new Error(`install failed: ${res.status} ${res.text.slice(0, 300)}`);
  const { passJson } = await checkPkpass(res.raw, rootFile);
  return {
    serialNumber: passJson.serialNumber,
    authenticationToken: passJson.authenticationToken,
    passTypeIdentifier: passJson.passTypeIdentifier,
    passJson,
  };
}

export function register(
  t: Requester,
  deviceId: string,
  pass: InstalledPass,
  pushToken: string,
): Promise<HttpResult> {
  return t.request(
    'POST',
    `/v1/devices/${deviceId}/registrations/${pass.passTypeIdentifier}/${pass.serialNumber}`,
    {
      headers: { authorization: `ApplePass ${pass.authenticationToken}` },
      body: { pushToken },
    },
  );
}

export function listSerials(
  t: Requester,
  deviceId: string,
  passTypeIdentifier: string,
  tag?: string,
): Promise<HttpResult> {
  const q = tag ? `?passesUpdatedSince=${encodeURIComponent(tag)}` : '';
  return t.request('GET', `/v1/devices/${deviceId}/registrations/${passTypeIdentifier}${q}`);
}

export function fetchPass(t: Requester, pass: InstalledPass, ifModifiedSince?: string): Promise<HttpResult> {
  const headers: Record<string, string> = { authorization: `ApplePass ${pass.authenticationToken}` };
  if (ifModifiedSince) headers['if-modified-since'] = ifModifiedSince;
  return t.request('GET', `/v1/passes/${pass.passTypeIdentifier}/${pass.serialNumber}`, { headers });
}

export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20000,
  stepMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, stepMs));
    last = await fn();
  }
  return last;
}
