import { createHash, sign } from 'node:crypto';

import {
  contextTag,
  derNull,
  integer,
  octetString,
  oid,
  sequence,
  setOf,
  sortedForSet,
  tlv,
  time,
} from './der';
import type { PassSigningMaterial } from './pass-signing-material';

const OID_DATA = '1.2.840.113549.1.7.1';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_TIME = '1.2.840.113549.1.9.5';
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const DIGEST_OIDS = { sha256: '2.16.840.1.101.3.4.2.1', sha1: '1.3.14.3.2.26' } as const;
const ECDSA_OIDS = { sha256: '1.2.840.10045.4.3.2', sha1: '1.2.840.10045.4.1' } as const;

/** The parts of a SignedData that depend only on the signing material, encoded once. */
interface SignedDataTemplate {
  version: Buffer;
  digestAlgorithm: Buffer;
  digestAlgorithms: Buffer;
  encapContentInfo: Buffer;
  certificates: Buffer;
  signerIdentifier: Buffer;
  signatureAlgorithm: Buffer;
  contentTypeAttribute: Buffer;
  signedDataOid: Buffer;
  signingTimeOid: Buffer;
  messageDigestOid: Buffer;
}

const templates = new WeakMap<PassSigningMaterial, SignedDataTemplate>();

function templateFor(material: PassSigningMaterial): SignedDataTemplate {
  let template = templates.get(material);
  if (template) return template;
  // RSA: PKCS#1 v1.5, identified as rsaEncryption like OpenSSL does; digest parameters absent (RFC 5754).
  const digestAlgorithm = sequence(oid(DIGEST_OIDS[material.digestAlgorithm]));
  const signatureAlgorithm =
    material.keyType === 'rsa'
      ? sequence(oid(OID_RSA_ENCRYPTION), derNull())
      : sequence(oid(ECDSA_OIDS[material.digestAlgorithm]));
  template = {
    version: integer(1),
    digestAlgorithm,
    digestAlgorithms: setOf(digestAlgorithm),
    encapContentInfo: sequence(oid(OID_DATA)),
    // certificates [0] IMPLICIT CertificateSet: the pass certificate and the WWDR intermediate.
    certificates: contextTag(0, sortedForSet([material.certificateDer, material.wwdrCertificateDer])),
    signerIdentifier: sequence(material.issuerNameDer, material.serialNumberDer),
    signatureAlgorithm,
    contentTypeAttribute: sequence(oid(OID_CONTENT_TYPE), setOf(oid(OID_DATA))),
    signedDataOid: oid(OID_SIGNED_DATA),
    signingTimeOid: oid(OID_SIGNING_TIME),
    messageDigestOid: oid(OID_MESSAGE_DIGEST),
  };
  templates.set(material, template);
  return template;
}

/** The signed attributes contentType, signingTime and messageDigest, DER-sorted, encoded as a SET. */
function signedAttributesFor(
  t: SignedDataTemplate,
  content: Buffer,
  material: PassSigningMaterial,
  at: Date,
): Buffer {
  const digest = createHash(material.digestAlgorithm).update(content).digest();
  const attributes = sortedForSet([
    t.contentTypeAttribute,
    sequence(t.signingTimeOid, setOf(time(at))),
    sequence(t.messageDigestOid, setOf(octetString(digest))),
  ]);
  return tlv(0x31, attributes);
}

function assemble(t: SignedDataTemplate, signedAttributes: Buffer, signature: Buffer): Buffer {
  // The signature covers the attributes encoded as a SET (0x31); the SignerInfo carries the same
  // bytes under [0] IMPLICIT (0xa0).
  const implicitAttributes = Buffer.from(signedAttributes);
  implicitAttributes[0] = 0xa0;
  const signerInfo = sequence(
    t.version,
    t.signerIdentifier,
    t.digestAlgorithm,
    implicitAttributes,
    t.signatureAlgorithm,
    octetString(signature),
  );
  const signedData = sequence(
    t.version,
    t.digestAlgorithms,
    t.encapContentInfo,
    t.certificates,
    setOf(signerInfo),
  );
  return sequence(t.signedDataOid, contextTag(0, signedData));
}

/**
 * A detached CMS SignedData (RFC 5652), DER, over `content`: signed attributes contentType (id-data),
 * signingTime and messageDigest, the pass certificate and the WWDR intermediate included. The digest
 * is the material's (SHA-256 by default); RSA keys sign with PKCS#1 v1.5, EC keys with ECDSA.
 */
export function signDetachedCms(content: Buffer, material: PassSigningMaterial, signingTime: Date): Buffer {
  const t = templateFor(material);
  const signedAttributes = signedAttributesFor(t, content, material, signingTime);
  return assemble(t, signedAttributes, sign(material.digestAlgorithm, signedAttributes, material.privateKey));
}

/**
 * Same bytes as signDetachedCms, but the private-key operation (~90% of the work) runs on the libuv
 * thread pool, so one process signs on every core while the event loop keeps serving requests.
 */
export function signDetachedCmsAsync(
  content: Buffer,
  material: PassSigningMaterial,
  signingTime: Date,
): Promise<Buffer> {
  const t = templateFor(material);
  const signedAttributes = signedAttributesFor(t, content, material, signingTime);
  return new Promise((resolve, reject) => {
    sign(material.digestAlgorithm, signedAttributes, material.privateKey, (error, signature) => {
      if (error) reject(error);
      else resolve(assemble(t, signedAttributes, signature));
    });
  });
}
