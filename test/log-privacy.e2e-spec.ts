import { createCampaign, createWalletConfiguration, linkPath, makeLinks } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

/**
 * A link token is a bearer credential with contact data inside. When issuing fails on our side
 * (here: the passes table refuses every new row, as a broken migration or a full disk would),
 * the error is logged — with the route pattern, never the token, its parts or the contact data,
 * and without the SQL parameters or PostgreSQL's "failing row" detail.
 */
describe('no link token or personal data in logs (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs a 5xx on /api/pass/create/:jwt with the route pattern only', async () => {
    const key = (await t.createTenant()).apiKey;
    const cfg = await createWalletConfiguration(t, key);
    const campaignId = (await createCampaign(t, key, cfg.id)).id;
    const contact = { id: 'contact-7731', email: 'ada.lovelace@example.org', firstName: 'Adaliciously' };
    const voucher = { code: 'VOUCHER-SECRET-4242' };
    const [url] = await makeLinks(t, key, [{ campaignId, platform: 'APPLE', contact, voucher }]);
    const path = linkPath(url!);
    const token = path.split('/').pop()!;
    const [header, payload, signature] = token.split('.') as [string, string, string];

    await t.db.query('ALTER TABLE passes ADD CONSTRAINT edges_refuse_rows CHECK (false) NOT VALID');
    try {
      const before = t.logs.lines.length;
      const res = await t.request('GET', path);
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('INTERNAL_ERROR');
      const correlationId = res.body.error.correlationId as string;

      const written = t.logs.lines.slice(before);
      const failure = written
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'request failed');
      expect(failure).toMatchObject({
        level: 'error',
        correlationId,
        route: '/api/pass/create/:jwt',
        err: expect.objectContaining({ type: expect.any(String) }),
      });
      const text = written.join('\n');
      for (const part of [
        token,
        header,
        payload,
        signature,
        'Adaliciously',
        'ada.lovelace',
        'contact-7731',
        'VOUCHER-SECRET-4242',
      ]) {
        expect({ part, found: text.includes(part) }).toEqual({ part, found: false });
      }
      expect(text).not.toContain('Failing row');
      expect(text).not.toMatch(/"parameters"/);
    } finally {
      await t.db.query('ALTER TABLE passes DROP CONSTRAINT edges_refuse_rows');
    }
    // The same link works once the table accepts rows again.
    expect((await t.request('GET', path)).status).toBe(200);
  });
});
