import type { CampaignTemplate } from '../../domain/pass-design/campaign-template';
import { buildPassJson, hexToAppleRgb, type PassJsonInput } from './pass-json.mapper';

function template(overrides: Partial<CampaignTemplate> = {}): CampaignTemplate {
  return {
    organizationName: 'Example Coffee',
    description: 'Example Coffee loyalty card',
    headerFields: [],
    primaryFields: [],
    secondaryFields: [],
    auxiliaryFields: [],
    backFields: [],
    ...overrides,
  };
}

function input(overrides: Partial<PassJsonInput> = {}): PassJsonInput {
  return {
    style: 'storeCard',
    template: template(),
    passTypeIdentifier: 'pass.com.example.coffee',
    teamIdentifier: 'ABCDE12345',
    serialNumber: 'serial-1',
    authenticationToken: 'abcdefghijklmnopqrstuvwxyz012345',
    webServiceURL: 'https://wallet.example.com/apple',
    ...overrides,
  };
}

describe('hexToAppleRgb', () => {
  it('converts #rrggbb and #rgb in either case', () => {
    expect(hexToAppleRgb('#ff8000')).toBe('rgb(255, 128, 0)');
    expect(hexToAppleRgb('#1F2937')).toBe('rgb(31, 41, 55)');
    expect(hexToAppleRgb('#abc')).toBe('rgb(170, 187, 204)');
    expect(hexToAppleRgb('#000')).toBe('rgb(0, 0, 0)');
  });

  it.each(['', 'red', '#12', '#1234', '#gggggg', 'ff8000', 'rgb(1, 2, 3)'])('rejects %p', (value) => {
    expect(() => hexToAppleRgb(value)).toThrow(RangeError);
  });
});

describe('buildPassJson', () => {
  it('writes the identity, web service and descriptive keys', () => {
    const pass = buildPassJson(input({ template: template({ logoText: 'Example' }) }));
    expect(pass).toEqual({
      formatVersion: 1,
      passTypeIdentifier: 'pass.com.example.coffee',
      teamIdentifier: 'ABCDE12345',
      serialNumber: 'serial-1',
      authenticationToken: 'abcdefghijklmnopqrstuvwxyz012345',
      webServiceURL: 'https://wallet.example.com/apple',
      organizationName: 'Example Coffee',
      description: 'Example Coffee loyalty card',
      logoText: 'Example',
      storeCard: {},
    });
    expect(pass).not.toHaveProperty('sharingProhibited');
    expect(pass).not.toHaveProperty('voided');
  });

  it('converts colours to rgb()', () => {
    const pass = buildPassJson(
      input({
        template: template({ backgroundColor: '#1f2937', foregroundColor: '#fff', labelColor: '#9CA3AF' }),
      }),
    );
    expect(pass.backgroundColor).toBe('rgb(31, 41, 55)');
    expect(pass.foregroundColor).toBe('rgb(255, 255, 255)');
    expect(pass.labelColor).toBe('rgb(156, 163, 175)');
  });

  it('puts non-empty field groups under the style key and omits empty ones', () => {
    const pass = buildPassJson(
      input({
        style: 'eventTicket',
        template: template({
          primaryFields: [{ key: 'event', label: 'Event', value: 'Concert' }],
          backFields: [
            { key: 'terms', value: 'No refunds' },
            { key: 'gate', label: 'Gate', value: 'B', changeMessage: 'Gate changed to %@' },
          ],
        }),
      }),
    );
    expect(pass).not.toHaveProperty('storeCard');
    expect(pass.eventTicket).toEqual({
      primaryFields: [{ key: 'event', label: 'Event', value: 'Concert' }],
      backFields: [
        { key: 'terms', value: 'No refunds' },
        { key: 'gate', label: 'Gate', value: 'B', changeMessage: 'Gate changed to %@' },
      ],
    });
    const backFields = (pass.eventTicket as { backFields: object[] }).backFields;
    expect(Object.keys(backFields[0]!)).toEqual(['key', 'value']);
  });

  it.each([
    ['QR', 'PKBarcodeFormatQR'],
    ['PDF417', 'PKBarcodeFormatPDF417'],
    ['AZTEC', 'PKBarcodeFormatAztec'],
    ['CODE128', 'PKBarcodeFormatCode128'],
  ] as const)('maps barcode %s to %s', (format, apple) => {
    const pass = buildPassJson(
      input({ template: template({ barcode: { format, message: 'M-1', altText: 'M 1' } }) }),
    );
    expect(pass.barcodes).toEqual([
      { format: apple, message: 'M-1', messageEncoding: 'iso-8859-1', altText: 'M 1' },
    ]);
  });

  it('leaves altText out when the template has none, and barcodes out without a barcode', () => {
    const withCode = buildPassJson(
      input({ template: template({ barcode: { format: 'QR', message: 'X' } }) }),
    );
    expect(withCode.barcodes).toEqual([
      { format: 'PKBarcodeFormatQR', message: 'X', messageEncoding: 'iso-8859-1' },
    ]);
    expect(buildPassJson(input())).not.toHaveProperty('barcodes');
  });

  it('marks the pass voided only when asked', () => {
    expect(buildPassJson(input({ voided: true })).voided).toBe(true);
    expect(buildPassJson(input({ voided: false }))).not.toHaveProperty('voided');
  });

  it('rejects a malformed colour', () => {
    expect(() => buildPassJson(input({ template: template({ labelColor: 'blue' }) }))).toThrow(/"blue"/);
  });
});
