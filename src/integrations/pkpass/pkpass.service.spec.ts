import { Test } from '@nestjs/testing';

import { createTestPki, type TestPki } from '../../../test/support/certs';
import { defaultIconFiles } from './default-icon';
import { PassSigningMaterialError } from './pass-signing-material';
import { PkpassModule } from './pkpass.module';
import { PkpassService } from './pkpass.service';

jest.setTimeout(60_000);

let pki: TestPki;

beforeAll(() => {
  pki = createTestPki();
});

afterAll(() => pki.cleanup());

describe('PkpassService', () => {
  it('is provided by PkpassModule and builds a zip from checked signing material', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [PkpassModule] }).compile();
    const service = moduleRef.get(PkpassService);
    const cert = pki.issuePassCertificate();
    const signing = service.createSigningMaterial({
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
      wwdrCertificatePem: pki.wwdr.certPem,
    });
    const archive = await service.build({
      passJson: { formatVersion: 1 },
      files: { ...defaultIconFiles() },
      signing,
    });
    expect(archive.subarray(0, 4).toString('hex')).toBe('504b0304');
    expect(archive.includes(Buffer.from('manifest.json'))).toBe(true);
    expect(() =>
      service.createSigningMaterial({
        certificatePem: cert.certificatePem,
        privateKeyPem: pki.unrelatedKeyPem(),
        wwdrCertificatePem: pki.wwdr.certPem,
      }),
    ).toThrow(PassSigningMaterialError);
    await moduleRef.close();
  });
});
