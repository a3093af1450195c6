import { apnsEnv, startApns } from './support/apns';
import { FakeApns } from './support/fake-apns';
import { FakeGoogle, startFakeGoogle } from './support/fake-google';
import {
  campaignBody,
  createCampaign,
  createWalletConfiguration,
  linkPath,
  sharedPki,
  WalletFixture,
} from './support/fixtures';
import { checkPkpass } from './support/pkpass';
import { createTenantWithAdmin, signIn, userWithRole } from './support/session';
import { startTestApp, TestApp } from './support/test-app';
import {
  eventually,
  install,
  InstalledPass,
  newDeviceId,
  newPushToken,
  register,
} from './support/wallet-device';

const today = () => new Date().toISOString().slice(0, 10);

describe('campaign console API: preview, test links, activity, pass search (e2e)', () => {
  let t: TestApp;
  let apns: FakeApns;
  let google: FakeGoogle;
  let key: string;
  let cfg: WalletFixture;

  beforeAll(async () => {
    apns = await startApns();
    google = await startFakeGoogle();
    t = await startTestApp({
      ...apnsEnv(apns),
      GOOGLE_WALLET_API_URL: google.apiUrl,
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      OUTBOX_POLL_MS: '100',
    });
    key = (await createTenantWithAdmin(t)).apiKey;
    cfg = await createWalletConfiguration(t, key, { google: true, registerWith: google });
  });
  afterAll(async () => {
    await t.close();
    await apns.close();
    await google.close();
  });

  const sample = {
    contact: { id: 'c-42', firstName: 'Ada', lastName: 'Lovelace' },
    voucher: { code: 'PREVIEW-1', title: '15% off', value: '15%' },
  };

  describe('preview', () => {
    it('renders an unsaved design through the real mappers, with the configuration ids', async () => {
      const body = campaignBody(cfg.id);
      const res = await t.request('POST', '/api/v1/campaigns/preview', {
        token: key,
        body: { passStyle: 'coupon', template: body.template, walletConfigurationId: cfg.id, sample },
      });
      expect(res.status).toBe(200);
      const passJson = res.body.apple.passJson;
      expect(passJson).toMatchObject({
        formatVersion: 1,
        passTypeIdentifier: cfg.pass.passTypeIdentifier,
        teamIdentifier: cfg.pass.teamIdentifier,
        organizationName: 'Acme',
        webServiceURL: t.config.publicBaseUrl,
        backgroundColor: 'rgb(30, 136, 229)',
      });
      expect(passJson.coupon.primaryFields).toEqual([{ key: 'offer', label: 'Offer', value: '15% off' }]);
      expect(passJson.coupon.secondaryFields[0].value).toBe('Ada Lovelace');
      expect(passJson.barcodes[0]).toMatchObject({ message: 'PREVIEW-1', format: 'PKBarcodeFormatQR' });
      const { classResource, objectResource } = res.body.google;
      expect(classResource.id).toMatch(new RegExp(`^${cfg.issuerId}\\.`));
      expect(objectResource.classId).toBe(classResource.id);
      expect(objectResource.barcode.value).toBe('PREVIEW-1');
      expect(JSON.stringify(objectResource)).toContain('15% off');
      // Unsaved: no image URLs.
      expect(JSON.stringify(res.body)).not.toContain('/api/assets/');

      // Without a configuration: placeholders; defaults fill missing tokens.
      const bare = await t.request('POST', '/api/v1/campaigns/preview', {
        token: key,
        body: { passStyle: 'generic', template: body.template, sample: { contact: {}, voucher: {} } },
      });
      expect(bare.status).toBe(200);
      expect(bare.body.apple.passJson.passTypeIdentifier).toBe('pass.example.preview');
      expect(bare.body.apple.passJson.generic.primaryFields[0].value).toBe('Summer deal');
    });

    it('matches what a real pass carries, for a saved campaign', async () => {
      const campaign = await createCampaign(t, key, cfg.id);
      const preview = await t.request('POST', `/api/v1/campaigns/${campaign.id}/preview`, {
        token: key,
        body: { sample },
      });
      expect(preview.status).toBe(200);
      expect(JSON.stringify(preview.body.google)).toContain(`/api/assets/${campaign.id}/logo.png`);

      const link = await t.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        token: key,
        body: { platform: 'APPLE', ...sample },
      });
      expect(link.status).toBe(201);
      const pkpass = await t.request('GET', linkPath(link.body.url));
      expect(pkpass.status).toBe(200);
      const { passJson } = await checkPkpass(pkpass.raw, sharedPki().rootFile);
      const strip = (p: Record<string, unknown>) => {
        const { serialNumber: _s, authenticationToken: _a, ...rest } = p;
        return rest;
      };
      expect(strip(preview.body.apple.passJson)).toEqual(strip(passJson));
    });

    it('validates like campaign creation, naming the field', async () => {
      const body = campaignBody(cfg.id);
      const cases: [unknown, string][] = [
        [{ passStyle: 'poster', template: body.template, sample }, 'passStyle'],
        [
          { passStyle: 'coupon', template: { ...body.template, backgroundColor: 'blue' }, sample },
          'template.backgroundColor',
        ],
        [
          {
            passStyle: 'coupon',
            template: { ...body.template, primaryFields: [{ key: 'a', value: '{{voucher.}}' }] },
            sample,
          },
          'template.primaryFields[0].value',
        ],
        [
          { passStyle: 'coupon', template: body.template, sample: { contact: { x: { y: 1 } }, voucher: {} } },
          'sample.contact.x',
        ],
        [{ passStyle: 'coupon', template: body.template }, 'sample'],
        [
          { passStyle: 'coupon', template: body.template, sample, walletConfigurationId: 'nope' },
          'walletConfigurationId',
        ],
      ];
      for (const [b, field] of cases) {
        const res = await t.request('POST', '/api/v1/campaigns/preview', { token: key, body: b });
        expect({ field, status: res.status }).toEqual({ field, status: 400 });
        expect(res.body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
      }
      const other = await t.request('POST', '/api/v1/campaigns/preview', {
        token: (await createTenantWithAdmin(t)).apiKey,
        body: { passStyle: 'coupon', template: body.template, sample, walletConfigurationId: cfg.id },
      });
      expect(other.status).toBe(404);
    });

    it('lets viewers preview but not make test links', async () => {
      const tenant = await createTenantWithAdmin(t);
      const c = await createWalletConfiguration(t, tenant.apiKey, {});
      const campaign = await createCampaign(t, tenant.apiKey, c.id);
      const viewer = await userWithRole(t, tenant.apiKey, 'viewer');
      expect(
        (await viewer.request('POST', `/api/v1/campaigns/${campaign.id}/preview`, { body: { sample } }))
          .status,
      ).toBe(200);
      const denied = await viewer.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        body: { platform: 'APPLE', ...sample },
      });
      expect(denied.status).toBe(403);
      const editor = await userWithRole(t, tenant.apiKey, 'editor');
      const ok = await editor.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        body: { platform: 'APPLE', ...sample },
      });
      expect(ok.status).toBe(201);
      // No Google block in this configuration.
      const google = await editor.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        body: { platform: 'GOOGLE', ...sample },
      });
      expect(google.status).toBe(422);
      const noIdentity = await editor.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        body: { platform: 'APPLE', contact: {}, voucher: {} },
      });
      expect(noIdentity.status).toBe(400);
      expect(noIdentity.body.error.fields[0].field).toBe('voucher.code');
    });

    it('gives Google test links that save the pass', async () => {
      const campaign = await createCampaign(t, key, cfg.id);
      const link = await t.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        token: key,
        body: { platform: 'GOOGLE', ...sample },
      });
      expect(link.status).toBe(201);
      const res = await t.request('GET', linkPath(link.body.url));
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toContain('/gp/v/save/');
    });
  });

  describe('activity', () => {
    it('counts passes, registrations, removals and pushes per day; impact and pass detail agree', async () => {
      const campaign = await createCampaign(t, key, cfg.id);
      const passes: InstalledPass[] = [];
      for (let i = 0; i < 3; i++) {
        const link = await t.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
          token: key,
          body: { platform: 'APPLE', contact: { id: `act-${i}` }, voucher: { code: `ACT-${i}`, title: 'x' } },
        });
        passes.push(await install(t, link.body.url, sharedPki().rootFile));
      }
      const gLink = await t.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        token: key,
        body: { platform: 'GOOGLE', contact: { id: 'g-1' }, voucher: { code: 'ACT-G' } },
      });
      expect((await t.request('GET', linkPath(gLink.body.url))).status).toBe(302);

      const devices = passes.slice(0, 2).map(() => ({ id: newDeviceId(), token: newPushToken() }));
      for (let i = 0; i < 2; i++)
        expect((await register(t, devices[i]!.id, passes[i]!, devices[i]!.token)).status).toBe(201);
      // One device removes its pass again.
      const p1 = passes[1]!;
      const del = await t.request(
        'DELETE',
        `/v1/devices/${devices[1]!.id}/registrations/${p1.passTypeIdentifier}/${p1.serialNumber}`,
        { headers: { authorization: `ApplePass ${p1.authenticationToken}` } },
      );
      expect(del.status).toBe(200);

      const impact = await t.request('GET', `/api/v1/campaigns/${campaign.id}/impact`, { token: key });
      expect(impact.status).toBe(200);
      expect(impact.body).toEqual({ passes: 4, appleDevices: 1, googlePasses: 1 });

      // A pass change pushes its one device.
      const patched = await t.request(
        'PATCH',
        `/api/v1/campaigns/${campaign.id}/passes/${passes[0]!.serialNumber}`,
        {
          token: key,
          body: { voucher: { title: 'changed' } },
        },
      );
      expect(patched.status).toBe(200);
      const detail = await eventually(
        () =>
          t.request('GET', `/api/v1/campaigns/${campaign.id}/passes/${passes[0]!.serialNumber}`, {
            token: key,
          }),
        (r) => r.body.lastPush !== null,
      );
      expect(detail.status).toBe(200);
      expect(detail.body).toMatchObject({
        serialNumber: passes[0]!.serialNumber,
        platforms: ['APPLE'],
        registeredDevices: 1,
        voided: false,
        data: { contact: { id: 'act-0' }, voucher: { code: 'ACT-0', title: 'changed' } },
        lastPush: { scope: 'PASS', sent: 1, failed: 0, at: expect.any(String) },
      });

      const daily = await eventually(
        () => t.request('GET', `/api/v1/campaigns/${campaign.id}/stats/daily?days=7`, { token: key }),
        (r) => r.body.days?.[6]?.pushesSent === 1,
      );
      expect(daily.status).toBe(200);
      expect(daily.body.days).toHaveLength(7);
      expect(daily.body.days[6]).toEqual({
        date: today(),
        passesIssued: { APPLE: 3, GOOGLE: 1 },
        devicesRegistered: 2,
        devicesRemoved: 1,
        pushesSent: 1,
        pushesFailed: 0,
      });
      for (const d of daily.body.days.slice(0, 6)) {
        expect(d).toMatchObject({
          passesIssued: { APPLE: 0, GOOGLE: 0 },
          devicesRegistered: 0,
          pushesSent: 0,
        });
      }
      expect(daily.body.days[0].date < daily.body.days[6].date).toBe(true);
      expect(
        (await t.request('GET', `/api/v1/campaigns/${campaign.id}/stats/daily?days=0`, { token: key }))
          .status,
      ).toBe(400);
      expect(
        (await t.request('GET', `/api/v1/campaigns/${campaign.id}/stats/daily?days=abc`, { token: key }))
          .status,
      ).toBe(400);
    });

    it('lists device log messages about the campaign passes, newest first', async () => {
      const campaign = await createCampaign(t, key, cfg.id);
      const link = await t.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
        token: key,
        body: { platform: 'APPLE', contact: { id: 'log-1' }, voucher: { code: 'LOG-1' } },
      });
      const pass = await install(t, link.body.url, sharedPki().rootFile);
      const logs = [
        `[2026-12-03 10:00:00 +0000] Get pass task (pass type ${pass.passTypeIdentifier}, serial number ${pass.serialNumber}, if-modified-since (null); with web service url ${t.config.publicBaseUrl}) encountered error: first`,
        `[2026-12-03 10:00:01 +0000] Get pass task (pass type ${pass.passTypeIdentifier}, serial number ${pass.serialNumber}, if-modified-since (null); with web service url ${t.config.publicBaseUrl}) encountered error: second`,
        'unrelated message',
      ];
      expect((await t.request('POST', '/v1/log', { body: { logs } })).status).toBe(200);
      const res = await t.request('GET', `/api/v1/campaigns/${campaign.id}/device-logs?limit=10`, {
        token: key,
      });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(2);
      expect(res.body.items[0].message).toContain('second');
      expect(res.body.items[1].message).toContain('first');
      expect(res.body.items[0].serialNumber).toBe(pass.serialNumber);
    });
  });

  describe('pass search', () => {
    it('finds passes by serial, voucher code or contact id, exact or prefix', async () => {
      const campaign = await createCampaign(t, key, cfg.id);
      const made: { serial: string; code: string; contact: string }[] = [];
      for (const [code, contact] of [
        ['SRCH-100', 'alice'],
        ['SRCH-101', 'bob'],
        ['OTHER_%', 'carol'],
      ] as const) {
        const link = await t.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
          token: key,
          body: { platform: 'APPLE', contact: { id: contact }, voucher: { code } },
        });
        const pass = await install(t, link.body.url, sharedPki().rootFile);
        made.push({ serial: pass.serialNumber, code, contact });
      }
      const search = async (q: string) => {
        const res = await t.request(
          'GET',
          `/api/v1/campaigns/${campaign.id}/passes?q=${encodeURIComponent(q)}`,
          {
            token: key,
          },
        );
        expect(res.status).toBe(200);
        return (res.body.items as { data: { voucher: { code: string } } }[])
          .map((p) => p.data.voucher.code)
          .sort();
      };
      expect(await search('SRCH-1')).toEqual(['SRCH-100', 'SRCH-101']);
      expect(await search('SRCH-101')).toEqual(['SRCH-101']);
      expect(await search('bob')).toEqual(['SRCH-101']);
      expect(await search(made[2]!.serial)).toEqual(['OTHER_%']);
      expect(await search(made[0]!.serial.slice(0, 12))).toContain('SRCH-100');
      // LIKE wildcards are literal.
      expect(await search('OTHER_')).toEqual(['OTHER_%']);
      expect(await search('%')).toEqual([]);
      expect(await search('S_CH')).toEqual([]);
      const all = await t.request('GET', `/api/v1/campaigns/${campaign.id}/passes`, { token: key });
      expect(all.body.total).toBe(3);
      const empty = await t.request('GET', `/api/v1/campaigns/${campaign.id}/passes?q=`, { token: key });
      expect(empty.status).toBe(400);

      const missing = await t.request('GET', `/api/v1/campaigns/${campaign.id}/passes/nope`, { token: key });
      expect(missing.status).toBe(404);
      const otherTenant = await createTenantWithAdmin(t);
      const s = await signIn(t, otherTenant.email, otherTenant.password);
      expect(
        (await s.request('GET', `/api/v1/campaigns/${campaign.id}/passes/${made[0]!.serial}`)).status,
      ).toBe(404);
      expect((await s.request('GET', `/api/v1/campaigns/${campaign.id}/impact`)).status).toBe(404);
      expect((await s.request('GET', `/api/v1/campaigns/${campaign.id}/stats/daily`)).status).toBe(404);
      expect((await s.request('GET', `/api/v1/campaigns/${campaign.id}/device-logs`)).status).toBe(404);
      expect(
        (
          await s.request('POST', `/api/v1/campaigns/${campaign.id}/test-links`, {
            body: { platform: 'APPLE', ...sample },
          })
        ).status,
      ).toBe(404);
    });
  });
});
