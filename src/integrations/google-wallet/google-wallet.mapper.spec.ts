import type { CampaignTemplate } from '../../domain/pass-design/campaign-template';
import { buildGoogleClass, buildGoogleObject, googleResourceSuffix } from './google-wallet.mapper';

const ISSUER = '3388000000012345678';
const CLASS_ID = `${ISSUER}.summer`;
const OBJECT_ID = `${ISSUER}.summer_SUMMER-001`;
const LOGO = 'https://wallet.example.com/api/assets/c1/logo.png';
const HERO = 'https://wallet.example.com/api/assets/c1/strip.png';

/** The design as marketers store it, tokens included. */
const raw: CampaignTemplate = {
  organizationName: 'Acme',
  description: 'Acme summer voucher',
  logoText: 'Acme',
  backgroundColor: '#1E88E5',
  foregroundColor: '#FFFFFF',
  headerFields: [{ key: 'value', label: 'Value', value: '{{voucher.value}}' }],
  primaryFields: [{ key: 'offer', label: 'Offer', value: '{{voucher.title}}' }],
  secondaryFields: [{ key: 'name', label: 'Name', value: '{{contact.firstName}} {{contact.lastName}}' }],
  auxiliaryFields: [],
  backFields: [{ key: 'terms', label: 'Terms & conditions', value: 'Valid until 31 August' }],
  barcode: { format: 'QR', message: '{{voucher.code}}', altText: '{{voucher.code}}' },
};

/** The same design rendered for one pass. */
const rendered: CampaignTemplate = {
  ...raw,
  headerFields: [{ key: 'value', label: 'Value', value: '10%' }],
  primaryFields: [{ key: 'offer', label: 'Offer', value: '10% off everything' }],
  secondaryFields: [{ key: 'name', label: 'Name', value: 'Ada Lovelace' }],
  barcode: { format: 'QR', message: 'SUMMER-001', altText: 'SUMMER-001' },
};

const localized = (value: string) => ({ defaultValue: { language: 'en-US', value } });

describe('buildGoogleClass', () => {
  it('maps a coupon to an offer class with no personalised text', () => {
    const cls = buildGoogleClass({
      style: 'coupon',
      classId: CLASS_ID,
      template: raw,
      issuerName: 'Acme Inc',
      logoUrl: LOGO,
      heroImageUrl: HERO,
    });
    expect(cls).toEqual({
      id: CLASS_ID,
      issuerName: 'Acme Inc',
      provider: 'Acme',
      title: 'Acme summer voucher',
      redemptionChannel: 'BOTH',
      reviewStatus: 'UNDER_REVIEW',
      hexBackgroundColor: '#1E88E5',
      titleImage: { sourceUri: { uri: LOGO } },
      heroImage: { sourceUri: { uri: HERO } },
    });
    expect(JSON.stringify(cls)).not.toContain('{{');
  });

  it('takes the offer title from a token-free primary value', () => {
    const template = { ...raw, primaryFields: [{ key: 'offer', label: 'Offer', value: '20% off' }] };
    expect(
      buildGoogleClass({ style: 'coupon', classId: CLASS_ID, template, issuerName: 'Acme' }),
    ).toMatchObject({
      title: '20% off',
    });
  });

  it('maps a store card to a loyalty class with the logo as programLogo', () => {
    const cls = buildGoogleClass({
      style: 'storeCard',
      classId: CLASS_ID,
      template: { ...raw, description: 'Acme Rewards' },
      issuerName: 'Acme Inc',
      logoUrl: LOGO,
    });
    expect(cls).toEqual({
      id: CLASS_ID,
      issuerName: 'Acme Inc',
      programName: 'Acme Rewards',
      programLogo: { sourceUri: { uri: LOGO } },
      reviewStatus: 'UNDER_REVIEW',
      hexBackgroundColor: '#1E88E5',
    });
  });

  it('refuses a loyalty class without a logo, which Google requires', () => {
    expect(() =>
      buildGoogleClass({ style: 'storeCard', classId: CLASS_ID, template: raw, issuerName: 'Acme' }),
    ).toThrow(/programLogo/);
  });

  it('maps an event ticket to an eventTicket class with a localized event name', () => {
    const cls = buildGoogleClass({
      style: 'eventTicket',
      classId: CLASS_ID,
      template: {
        ...raw,
        description: '{{voucher.event}}',
        primaryFields: [{ key: 'e', value: 'Summer Gala' }],
      },
      issuerName: 'Acme Inc',
      logoUrl: LOGO,
    });
    expect(cls).toEqual({
      id: CLASS_ID,
      issuerName: 'Acme Inc',
      eventName: localized('Summer Gala'),
      reviewStatus: 'UNDER_REVIEW',
      hexBackgroundColor: '#1E88E5',
      logo: { sourceUri: { uri: LOGO } },
    });
  });

  it('maps a generic pass to a bare generic class', () => {
    expect(
      buildGoogleClass({
        style: 'generic',
        classId: CLASS_ID,
        template: raw,
        issuerName: 'Acme',
        logoUrl: LOGO,
      }),
    ).toEqual({ id: CLASS_ID });
  });

  it('leaves out a colour Google would reject', () => {
    const cls = buildGoogleClass({
      style: 'coupon',
      classId: CLASS_ID,
      template: { ...raw, backgroundColor: 'rgb(1,2,3)' },
      issuerName: 'Acme',
    });
    expect(cls).not.toHaveProperty('hexBackgroundColor');
  });
});

describe('buildGoogleObject', () => {
  const expectedModules = [
    { id: 'value', header: 'Value', body: '10%' },
    { id: 'offer', header: 'Offer', body: '10% off everything' },
    { id: 'name', header: 'Name', body: 'Ada Lovelace' },
    { id: 'terms', header: 'Terms & conditions', body: 'Valid until 31 August' },
  ];

  it('maps a coupon to an offer object with the personalised fields and barcode', () => {
    const obj = buildGoogleObject({
      style: 'coupon',
      objectId: OBJECT_ID,
      classId: CLASS_ID,
      template: rendered,
      state: 'ACTIVE',
    });
    expect(obj).toEqual({
      id: OBJECT_ID,
      classId: CLASS_ID,
      state: 'ACTIVE',
      barcode: { type: 'QR_CODE', value: 'SUMMER-001', alternateText: 'SUMMER-001' },
      textModulesData: expectedModules,
    });
  });

  it('maps a store card to a loyalty object with the account', () => {
    const obj = buildGoogleObject({
      style: 'storeCard',
      objectId: OBJECT_ID,
      classId: CLASS_ID,
      template: { ...rendered, barcode: { format: 'PDF417', message: 'M-42' } },
      state: 'ACTIVE',
      accountId: 'c-42',
      accountName: 'Ada Lovelace',
    });
    expect(obj).toMatchObject({
      accountId: 'c-42',
      accountName: 'Ada Lovelace',
      barcode: { type: 'PDF_417', value: 'M-42' },
    });
    expect(obj.barcode).not.toHaveProperty('alternateText');
  });

  it('maps an event ticket to an eventTicket object with the background colour', () => {
    const obj = buildGoogleObject({
      style: 'eventTicket',
      objectId: OBJECT_ID,
      classId: CLASS_ID,
      template: { ...rendered, barcode: { format: 'AZTEC', message: 'T-1', altText: 'Ticket 1' } },
      state: 'INACTIVE',
    });
    expect(obj).toEqual({
      id: OBJECT_ID,
      classId: CLASS_ID,
      state: 'INACTIVE',
      barcode: { type: 'AZTEC', value: 'T-1', alternateText: 'Ticket 1' },
      textModulesData: expectedModules,
      hexBackgroundColor: '#1E88E5',
    });
  });

  it('maps a generic pass to a generic object with card title, header, logo and colour', () => {
    const obj = buildGoogleObject({
      style: 'generic',
      objectId: OBJECT_ID,
      classId: CLASS_ID,
      template: { ...rendered, barcode: { format: 'CODE128', message: '0042' } },
      state: 'ACTIVE',
      logoUrl: LOGO,
    });
    expect(obj).toEqual({
      id: OBJECT_ID,
      classId: CLASS_ID,
      state: 'ACTIVE',
      barcode: { type: 'CODE_128', value: '0042' },
      textModulesData: expectedModules,
      cardTitle: localized('Acme'),
      subheader: localized('Offer'),
      header: localized('10% off everything'),
      hexBackgroundColor: '#1E88E5',
      logo: { sourceUri: { uri: LOGO } },
    });
  });

  it('falls back to the description as the generic header when there is no primary field', () => {
    const obj = buildGoogleObject({
      style: 'generic',
      objectId: OBJECT_ID,
      classId: CLASS_ID,
      template: { ...rendered, primaryFields: [], barcode: undefined },
      state: 'ACTIVE',
    });
    expect(obj.header).toEqual(localized('Acme summer voucher'));
    expect(obj).not.toHaveProperty('subheader');
    expect(obj).not.toHaveProperty('barcode');
  });

  it('sanitises field keys into text module ids and skips fields rendered empty', () => {
    const obj = buildGoogleObject({
      style: 'coupon',
      objectId: OBJECT_ID,
      classId: CLASS_ID,
      template: {
        ...rendered,
        headerFields: [],
        primaryFields: [{ key: 'first name', label: 'First', value: 'Ada' }],
        secondaryFields: [{ key: 'empty', label: 'Nothing', value: '' }],
        backFields: [],
      },
      state: 'ACTIVE',
    });
    const modules = obj.textModulesData as Array<{ id: string }>;
    expect(modules).toHaveLength(1);
    expect(modules[0]!.id).toMatch(/^first_name-[0-9a-f]{10}$/);
  });
});

describe('googleResourceSuffix', () => {
  it('keeps a valid identifier as it is', () => {
    expect(googleResourceSuffix('summer_2024.v-1')).toBe('summer_2024.v-1');
  });

  it('reduces anything else to the allowed characters, without collisions', () => {
    const a = googleResourceSuffix('SUMMER 001');
    const b = googleResourceSuffix('SUMMER/001');
    expect(a).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(b).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(a.startsWith('SUMMER_001-')).toBe(true);
    expect(a).not.toBe(b);
    expect(googleResourceSuffix('SUMMER 001')).toBe(a);
    expect(googleResourceSuffix('café')).toMatch(/^caf_-[0-9a-f]{10}$/);
    expect(googleResourceSuffix('')).toMatch(/^[0-9a-f]{10}$/);
  });
});
