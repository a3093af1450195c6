import { generateKeyPairSync } from 'node:crypto';

import { createTestPki, type PassCertificate, type TestPki } from '../../../test/support/certs';
import {
  PassSigningMaterial,
  PassSigningMaterialError,
  type PassSigningMaterialField,
  type PassSigningMaterialInput,
} from './pass-signing-material';

jest.setTimeout(60_000);

let pki: TestPki;
let cert: PassCertificate;

beforeAll(() => {
  pki = createTestPki();
  cert = pki.issuePassCertificate({
    passTypeIdentifier: 'pass.com.example.coffee',
    teamIdentifier: 'TEAM123456',
  });
});

afterAll(() => pki.cleanup());

function input(overrides: Partial<PassSigningMaterialInput> = {}): PassSigningMaterialInput {
  return {
    certificatePem: cert.certificatePem,
    privateKeyPem: cert.privateKeyPem,
    wwdrCertificatePem: pki.wwdr.certPem,
    ...overrides,
  };
}

function failure(make: () => unknown): PassSigningMaterialError {
  try {
    make();
  } catch (error) {
    if (error instanceof PassSigningMaterialError) return error;
    throw error;
  }
  throw new Error('expected PassSigningMaterialError, nothing was thrown');
}

function expectField(make: () => unknown, field: PassSigningMaterialField, message: RegExp): void {
  const error = failure(make);
  expect(error.field).toBe(field);
  expect(error.message).toMatch(message);
}

describe('PassSigningMaterial', () => {
  it('parses the key, both certificates and the identifiers', () => {
    const material = new PassSigningMaterial(input());
    expect(material.keyType).toBe('rsa');
    expect(material.digestAlgorithm).toBe('sha256');
    expect(material.passTypeIdentifier).toBe('pass.com.example.coffee');
    expect(material.teamIdentifier).toBe('TEAM123456');
    expect(material.certificateDer.equals(material.certificate.raw)).toBe(true);
    expect(material.wwdrCertificateDer.subarray(0, 1).toString('hex')).toBe('30');
    expect(material.validTo.getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    expect(material.isValidAt(new Date())).toBe(true);
  });

  it('extracts the serial number INTEGER and the issuer Name bytes from the certificate', () => {
    const material = new PassSigningMaterial(input());
    expect(material.serialNumberDer[0]).toBe(0x02);
    const serialValue = BigInt(`0x${material.serialNumberDer.subarray(2).toString('hex')}`);
    expect(serialValue).toBe(BigInt(`0x${material.certificate.serialNumber}`));
    // The issuer Name of the pass certificate is the WWDR's subject, byte for byte.
    const wwdrText = material.wwdrCertificateDer.toString('latin1');
    expect(wwdrText.includes(material.issuerNameDer.toString('latin1'))).toBe(true);
    expect(material.issuerNameDer.toString('latin1')).toContain(
      'Apple Worldwide Developer Relations Certification Authority',
    );
  });

  it('accepts a passphrase-protected key', () => {
    const encrypted = pki.issuePassCertificate({ passphrase: 'correct horse' });
    expect(encrypted.privateKeyPem).toContain('ENCRYPTED PRIVATE KEY');
    const material = new PassSigningMaterial({
      certificatePem: encrypted.certificatePem,
      privateKeyPem: encrypted.privateKeyPem,
      privateKeyPassphrase: 'correct horse',
      wwdrCertificatePem: pki.wwdr.certPem,
    });
    expect(material.privateKey.type).toBe('private');
    expect(material.passTypeIdentifier).toBe(encrypted.passTypeIdentifier);
  });

  it('blames the passphrase when it is wrong or missing', () => {
    const encrypted = pki.issuePassCertificate({ passphrase: 'correct horse' });
    const base = { certificatePem: encrypted.certificatePem, privateKeyPem: encrypted.privateKeyPem };
    expectField(
      () => new PassSigningMaterial(input({ ...base, privateKeyPassphrase: 'wrong' })),
      'privateKeyPassphrase',
      /could not be decrypted/,
    );
    expectField(() => new PassSigningMaterial(input(base)), 'privateKeyPassphrase', /no passphrase/);
  });

  it('blames the private key when it belongs to another certificate', () => {
    expectField(
      () => new PassSigningMaterial(input({ privateKeyPem: pki.unrelatedKeyPem() })),
      'privateKeyPem',
      /does not belong/,
    );
  });

  it('blames the private key when it is not a key or of an unsupported type', () => {
    expectField(
      () => new PassSigningMaterial(input({ privateKeyPem: 'not a key' })),
      'privateKeyPem',
      /not a PEM/,
    );
    expectField(
      () =>
        new PassSigningMaterial(
          input({ privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
        ),
      'privateKeyPem',
      /could not be parsed/,
    );
    const ed25519 = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expectField(() => new PassSigningMaterial(input({ privateKeyPem: ed25519 })), 'privateKeyPem', /ed25519/);
  });

  it('blames the certificate when it is garbage', () => {
    expectField(
      () => new PassSigningMaterial(input({ certificatePem: 'garbage' })),
      'certificatePem',
      /not a PEM/,
    );
    expectField(
      () =>
        new PassSigningMaterial(
          input({ certificatePem: '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n' }),
        ),
      'certificatePem',
      /could not be parsed/,
    );
  });

  it('blames the WWDR certificate when it is garbage or did not issue the pass certificate', () => {
    expectField(
      () => new PassSigningMaterial(input({ wwdrCertificatePem: 'garbage' })),
      'wwdrCertificatePem',
      /not a PEM/,
    );
    expectField(
      () => new PassSigningMaterial(input({ wwdrCertificatePem: pki.root.certPem })),
      'wwdrCertificatePem',
      /not issued by this WWDR/,
    );
  });

  it('restores PEM newlines that arrived escaped', () => {
    const escaped = (pem: string) => pem.replace(/\n/g, '\\n');
    const material = new PassSigningMaterial({
      certificatePem: escaped(cert.certificatePem),
      privateKeyPem: escaped(cert.privateKeyPem),
      wwdrCertificatePem: escaped(pki.wwdr.certPem),
    });
    expect(material.teamIdentifier).toBe('TEAM123456');
  });

  it('reports the end of validity of an expired certificate', () => {
    const expired = pki.issuePassCertificate({ expired: true });
    const material = new PassSigningMaterial(
      input({ certificatePem: expired.certificatePem, privateKeyPem: expired.privateKeyPem }),
    );
    expect(material.validTo.toISOString()).toBe('2021-01-01T00:00:00.000Z');
    expect(material.isValidAt(new Date())).toBe(false);
  });
});
