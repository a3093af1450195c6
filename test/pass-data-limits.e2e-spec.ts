import { deflateSync } from 'node:zlib';
import { PNG_SIGNATURE, pngChunk } from '../src/common/png';
import {
  campaignBody,
  createCampaign,
  createWalletConfiguration,
  linkPath,
  makeLinks,
  makePng,
} from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

/** A PNG whose 16×16 RGBA header is honest but whose image data inflates to `rawBytes`. */
function pngWithRawData(width: number, height: number, rawBytes: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 6;
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(rawBytes))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('stored data stays bounded and pass identities stay fixed (e2e)', () => {
  let t: TestApp;
  let key: string;
  let cfgId: string;
  let campaignId: string;
  let byCode: string;
  let byContact: string;

  async function patch(serial: string, body: unknown) {
    return t.request('PATCH', `/api/v1/campaigns/${campaignId}/passes/${serial}`, { token: key, body });
  }

  beforeAll(async () => {
    t = await startTestApp();
    key = (await t.createTenant()).apiKey;
    cfgId = (await createWalletConfiguration(t, key)).id;
    campaignId = (await createCampaign(t, key, cfgId)).id;
    const urls = await makeLinks(t, key, [
      {
        campaignId,
        platform: 'APPLE',
        contact: { id: 'c-1', firstName: 'Ada' },
        voucher: { code: 'CODE-1' },
      },
      { campaignId, platform: 'APPLE', contact: { id: 'c-2', firstName: 'Grace' } },
    ]);
    const serials: string[] = [];
    for (const url of urls) {
      const res = await t.request('GET', linkPath(url));
      expect(res.status).toBe(200);
      serials.push(res.headers.get('x-pass-serial')!);
    }
    [byCode, byContact] = serials as [string, string];
  });
  afterAll(async () => {
    await t.close();
  });

  it('holds the merged pass data to the link limits: keys per object', async () => {
    const batch = (from: number) =>
      Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${from + i}`, 'v']));
    expect((await patch(byCode, { contact: batch(0) })).status).toBe(200);
    // 2 + 25 keys now; another 25 would make 52 (each PATCH alone has only 25).
    const over = await patch(byCode, { contact: batch(100) });
    expect(over.status).toBe(400);
    expect(over.body.error.fields).toEqual([
      { field: 'contact', message: expect.stringContaining('at most 50') },
    ]);
    // Changing existing keys adds none: still fine.
    expect((await patch(byCode, { contact: { ...batch(0), firstName: 'Ada L.' } })).status).toBe(200);
    const stored = await t.db.query<{ data: any }>('SELECT data FROM passes WHERE serial_number = $1', [
      byCode,
    ]);
    expect(Object.keys(stored.rows[0]!.data.contact)).toHaveLength(27);
  });

  it('holds the merged pass data to the link limits: value and total size', async () => {
    const long = await patch(byContact, { voucher: { note: 'x'.repeat(501) } });
    expect(long.status).toBe(400);
    expect(long.body.error.fields[0].field).toBe('voucher');
    // 20 keys of 400 characters per PATCH are fine alone; together they pass 8 KiB of JSON.
    const chunk = (p: string) =>
      Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`${p}${i}`, 'y'.repeat(400)]));
    expect((await patch(byContact, { voucher: chunk('a') })).status).toBe(200);
    const big = await patch(byContact, { voucher: chunk('b') });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toContain('at most 8192');
    const stored = await t.db.query<{ data: any }>('SELECT data FROM passes WHERE serial_number = $1', [
      byContact,
    ]);
    expect(Object.keys(stored.rows[0]!.data.voucher)).toHaveLength(12);
  });

  it('never changes the voucher code of a pass identified by it', async () => {
    for (const voucher of [{ code: 'CODE-2' }, { code: null }, { code: '' }, { code: 1 }]) {
      const res = await patch(byCode, { voucher });
      expect({
        voucher,
        status: res.status,
        fields: res.body.error?.fields?.map((f: any) => f.field),
      }).toEqual({
        voucher,
        status: 400,
        fields: ['voucher.code'],
      });
    }
    // The same code, and the contact id (which does not identify this pass), may be sent.
    expect((await patch(byCode, { voucher: { code: 'CODE-1', title: 'New' } })).status).toBe(200);
    expect((await patch(byCode, { contact: { id: 'c-1b' } })).status).toBe(200);
    const stored = await t.db.query<{ data: any; identity: string }>(
      'SELECT data, identity FROM passes WHERE serial_number = $1',
      [byCode],
    );
    expect(stored.rows[0]).toMatchObject({
      identity: 'v:CODE-1',
      data: { voucher: { code: 'CODE-1', title: 'New' } },
    });
  });

  it('never changes the contact id of a pass without a voucher code, nor adds a code to it', async () => {
    const changed = await patch(byContact, { contact: { id: 'someone-else' } });
    expect(changed.status).toBe(400);
    expect(changed.body.error.fields.map((f: any) => f.field)).toEqual(['contact.id']);
    const removed = await patch(byContact, { contact: { id: null } });
    expect(removed.body.error.fields.map((f: any) => f.field)).toEqual(['contact.id']);
    const coded = await patch(byContact, { voucher: { code: 'NEW-CODE' } });
    expect(coded.status).toBe(400);
    expect(coded.body.error.fields.map((f: any) => f.field)).toEqual(['voucher.code']);
    expect((await patch(byContact, { contact: { id: 'c-2', firstName: 'G.' } })).status).toBe(200);
    // The link still yields the same pass.
    const [url] = await makeLinks(t, key, [{ campaignId, platform: 'APPLE', contact: { id: 'c-2' } }]);
    const again = await t.request('GET', linkPath(url!));
    expect(again.headers.get('x-pass-serial')).toBe(byContact);
  });

  it('decodes uploaded PNGs: decompression bombs, oversized and truncated images are refused', async () => {
    const bomb = pngWithRawData(16, 16, 200 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const cases: [string, Buffer, RegExp][] = [
      ['bomb', bomb, /inflates to more than/],
      ['too many pixels', pngWithRawData(4000, 4000, 10), /at most 4194304/],
      ['short data', pngWithRawData(16, 16, 100), /inflates to 100 bytes/],
    ];
    for (const [name, png, message] of cases) {
      const started = Date.now();
      const created = await t.request('POST', '/api/v1/campaigns', {
        token: key,
        body: campaignBody(cfgId, {
          images: { icon: makePng().toString('base64'), logo: png.toString('base64') },
        }),
      });
      expect({ name, status: created.status, code: created.body.error?.code }).toEqual({
        name,
        status: 400,
        code: 'INVALID_IMAGE',
      });
      expect(created.body.error.fields).toEqual([
        { field: 'images.logo', message: expect.stringMatching(message) },
      ]);
      expect(Date.now() - started).toBeLessThan(5000);
      const patched = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
        token: key,
        body: { images: { strip: png.toString('base64') } },
      });
      expect({ name, status: patched.status }).toEqual({ name, status: 400 });
      expect(patched.body.error.fields[0].field).toBe('images.strip');
    }
    const fine = await t.request('PATCH', `/api/v1/campaigns/${campaignId}`, {
      token: key,
      body: { images: { strip: makePng(375, 123, true).toString('base64') } },
    });
    expect(fine.status).toBe(200);
    const served = await t.request('GET', `/api/assets/${campaignId}/strip.png`);
    expect(served.status).toBe(200);
  });
});
