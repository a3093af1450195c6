import * as forge from 'node-forge';
import { sharedPki } from './support/fixtures';
import { createTenantWithAdmin, signIn } from './support/session';
import { expectNoSecrets, startTestApp, TestApp } from './support/test-app';

/** A .p12 as Keychain Access exports it: the pass certificate, its key, and the WWDR intermediate. */
function makeP12(certPem: string, keyPem: string, chainPem: string, password: string): string {
  const key = forge.pki.privateKeyFromPem(keyPem);
  const certs = [forge.pki.certificateFromPem(chainPem), forge.pki.certificateFromPem(certPem)];
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').toString('base64');
}

describe('wallet configurations from a .p12 file (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('takes the certificate and key from the .p12; wrong password or a bad file answer 400 naming the field', async () => {
    const tenant = await createTenantWithAdmin(t);
    const admin = await signIn(t, tenant.email, tenant.password);
    const pki = sharedPki();
    const pass = pki.issuePassCertificate();
    const p12 = makeP12(pass.certificatePem, pass.privateKeyPem, pki.wwdr.certPem, 'p12 secret');
    const apple = {
      passTypeIdentifier: pass.passTypeIdentifier,
      teamIdentifier: pass.teamIdentifier,
      wwdrCertificatePem: pki.wwdr.certPem,
    };

    const wrong = await admin.request('POST', '/api/v1/wallet-configurations', {
      body: { name: 'From p12', apple: { ...apple, p12Base64: p12, p12Password: 'not it' } },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.fields[0].field).toBe('apple.p12Password');

    const garbage = await admin.request('POST', '/api/v1/wallet-configurations', {
      body: { name: 'From p12', apple: { ...apple, p12Base64: Buffer.from('not a p12').toString('base64') } },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.fields[0].field).toBe('apple.p12Base64');

    const both = await admin.request('POST', '/api/v1/wallet-configurations', {
      body: {
        name: 'From p12',
        apple: { ...apple, p12Base64: p12, p12Password: 'p12 secret', certificatePem: pass.certificatePem },
      },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.fields[0].field).toBe('apple.p12Base64');

    const neither = await admin.request('POST', '/api/v1/wallet-configurations', {
      body: { name: 'From p12', apple },
    });
    expect(neither.status).toBe(400);
    expect(neither.body.error.fields.map((f: { field: string }) => f.field)).toContain(
      'apple.certificatePem',
    );

    const ok = await admin.request('POST', '/api/v1/wallet-configurations', {
      body: { name: 'From p12', apple: { ...apple, p12Base64: p12, p12Password: 'p12 secret' } },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.apple).toMatchObject({
      passTypeIdentifier: pass.passTypeIdentifier,
      teamIdentifier: pass.teamIdentifier,
    });
    // The certificate from the file, not the WWDR one next to it.
    const echoed = forge.pki.certificateFromPem(ok.body.apple.certificatePem);
    expect(echoed.serialNumber).toBe(forge.pki.certificateFromPem(pass.certificatePem).serialNumber);
    expectNoSecrets(ok.text);
    expect(ok.text).not.toContain(p12.slice(0, 40));
    expect(ok.text).not.toContain('p12 secret');

    // Replacing the credentials with another .p12 through PATCH.
    const renewed = pki.issuePassCertificate({ passTypeIdentifier: pass.passTypeIdentifier });
    const p12b = makeP12(renewed.certificatePem, renewed.privateKeyPem, pki.wwdr.certPem, '');
    const patched = await admin.request('PATCH', `/api/v1/wallet-configurations/${ok.body.id}`, {
      body: {
        apple: {
          passTypeIdentifier: renewed.passTypeIdentifier,
          teamIdentifier: renewed.teamIdentifier,
          wwdrCertificatePem: pki.wwdr.certPem,
          p12Base64: p12b,
        },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.version).toBe(ok.body.version + 1);
  });
});
