import { createHash, verify } from 'node:crypto';

import { createTestPki, type TestPki } from '../../../test/support/certs';
import { signDetachedCms, signDetachedCmsAsync } from './cms';
import {
  contentBytes,
  decodeOid,
  elementBytes,
  readChildren,
  readElement,
  sequence,
  type DerElement,
} from './der';
import { PassSigningMaterial } from './pass-signing-material';

jest.setTimeout(60_000);

let pki: TestPki;
let material: PassSigningMaterial;

beforeAll(() => {
  pki = createTestPki();
  const cert = pki.issuePassCertificate();
  material = new PassSigningMaterial({
    certificatePem: cert.certificatePem,
    privateKeyPem: cert.privateKeyPem,
    wwdrCertificatePem: pki.wwdr.certPem,
  });
});

afterAll(() => pki.cleanup());

function children(der: Buffer, el: DerElement | undefined): DerElement[] {
  if (!el) throw new Error('missing element');
  return readChildren(der, el);
}

/** ContentInfo → SignedData → its parts and the single SignerInfo's parts. */
function parse(der: Buffer) {
  const [contentType, explicit] = children(der, readElement(der, 0));
  const [signedData] = children(der, explicit);
  const [version, digestAlgorithms, encapContentInfo, certificates, signerInfos, ...rest] = children(
    der,
    signedData,
  );
  const [signerInfo] = children(der, signerInfos);
  const [siVersion, sid, digestAlgorithm, signedAttrs, signatureAlgorithm, signature] = children(
    der,
    signerInfo,
  );
  return {
    contentType: decodeOid(contentBytes(der, contentType!)),
    version: contentBytes(der, version!),
    digestAlgorithms: children(der, digestAlgorithms),
    encapContentInfo: children(der, encapContentInfo),
    certificates: children(der, certificates).map((c) => elementBytes(der, c)),
    certificatesTag: certificates!.tag,
    rest,
    siVersion: contentBytes(der, siVersion!),
    sid: elementBytes(der, sid!),
    digestAlgorithm: decodeOid(contentBytes(der, children(der, digestAlgorithm)[0]!)),
    signedAttrs: signedAttrs!,
    attributes: children(der, signedAttrs).map((a) => elementBytes(der, a)),
    signatureAlgorithm: decodeOid(contentBytes(der, children(der, signatureAlgorithm)[0]!)),
    signature: contentBytes(der, signature!),
  };
}

function attributeValue(attribute: Buffer): { type: string; value: Buffer } {
  const [type, values] = readChildren(attribute, readElement(attribute, 0));
  const [value] = children(attribute, values);
  return { type: decodeOid(contentBytes(attribute, type!)), value: elementBytes(attribute, value!) };
}

describe('signDetachedCms', () => {
  const content = Buffer.from('{"pass.json":"0123456789abcdef0123456789abcdef01234567"}');
  const signingTime = new Date('2031-07-08T09:10:11Z');

  it('writes a detached SignedData with both certificates and the signer identified by issuer and serial', () => {
    const cms = parse(signDetachedCms(content, material, signingTime));
    expect(cms.contentType).toBe('1.2.840.113549.1.7.2');
    expect(cms.version.toString('hex')).toBe('01');
    expect(cms.digestAlgorithms).toHaveLength(1);
    expect(cms.encapContentInfo).toHaveLength(1); // eContentType only: detached
    expect(cms.certificatesTag).toBe(0xa0);
    expect(cms.certificates.map((c) => c.toString('hex')).sort()).toEqual(
      [material.certificateDer, material.wwdrCertificateDer].map((c) => c.toString('hex')).sort(),
    );
    expect(cms.rest).toEqual([]);
    expect(cms.siVersion.toString('hex')).toBe('01');
    expect(cms.sid.equals(sequence(material.issuerNameDer, material.serialNumberDer))).toBe(true);
    expect(cms.digestAlgorithm).toBe('2.16.840.1.101.3.4.2.1');
    expect(cms.signatureAlgorithm).toBe('1.2.840.113549.1.1.1');
  });

  it('signs DER-sorted contentType, signingTime and messageDigest attributes re-tagged as a SET', () => {
    const der = signDetachedCms(content, material, signingTime);
    const cms = parse(der);
    expect(cms.signedAttrs.tag).toBe(0xa0);

    const sorted = [...cms.attributes].sort(Buffer.compare);
    expect(cms.attributes.map((a) => a.toString('hex'))).toEqual(sorted.map((a) => a.toString('hex')));

    const values = new Map(cms.attributes.map((a) => attributeValue(a)).map((a) => [a.type, a.value]));
    expect(values.get('1.2.840.113549.1.9.3')?.toString('hex')).toBe('06092a864886f70d010701');
    expect(values.get('1.2.840.113549.1.9.5')?.toString('latin1')).toBe('\x17\x0d310708091011Z');
    const digest = createHash('sha256').update(content).digest();
    expect(values.get('1.2.840.113549.1.9.4')?.equals(Buffer.concat([Buffer.of(0x04, 32), digest]))).toBe(
      true,
    );

    const signed = Buffer.from(elementBytes(der, cms.signedAttrs));
    signed[0] = 0x31;
    expect(verify('sha256', signed, material.certificate.publicKey, cms.signature)).toBe(true);
    signed[0] = 0xa0;
    expect(verify('sha256', signed, material.certificate.publicKey, cms.signature)).toBe(false);
  });

  it('gives the same bytes when signing on the thread pool (RSA PKCS#1 v1.5 is deterministic)', async () => {
    const sync = signDetachedCms(content, material, signingTime);
    const pooled = await signDetachedCmsAsync(content, material, signingTime);
    expect(pooled.toString('hex')).toBe(sync.toString('hex'));
  });

  it('produces a different signature for different content', () => {
    const a = parse(signDetachedCms(content, material, signingTime));
    const b = parse(signDetachedCms(Buffer.from('other'), material, signingTime));
    expect(a.signature.equals(b.signature)).toBe(false);
  });
});
