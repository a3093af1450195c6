import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';

import {
  contentBytes,
  decodeOid,
  decodeString,
  DerTag,
  elementBytes,
  readChildren,
  readElement,
  type DerElement,
} from './der';

export type PassSigningMaterialField =
  'certificatePem' | 'privateKeyPem' | 'privateKeyPassphrase' | 'wwdrCertificatePem';

/** A wallet configuration's signing credentials are unusable; `field` names the culprit. */
export class PassSigningMaterialError extends Error {
  override readonly name = 'PassSigningMaterialError';

  constructor(
    readonly field: PassSigningMaterialField,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Digest for the CMS signature (the manifest's own entries are always SHA-1). */
export type PassDigestAlgorithm = 'sha256' | 'sha1';
export type PassSigningKeyType = 'rsa' | 'ec';

export interface PassSigningMaterialInput {
  /** Pass Type ID certificate, PEM. */
  certificatePem: string | Buffer;
  /** Its private key, PEM (PKCS#8, PKCS#1 or SEC1; encrypted or not). */
  privateKeyPem: string | Buffer;
  privateKeyPassphrase?: string;
  /** Apple WWDR intermediate (G4 for current Pass Type ID certificates), PEM. */
  wwdrCertificatePem: string | Buffer;
  /** Defaults to SHA-256, which OpenSSL also uses; passkit-generator signs with SHA-1. */
  digestAlgorithm?: PassDigestAlgorithm;
}

const OID_USER_ID = '0.9.2342.19200300.100.1.1';
const OID_ORGANIZATIONAL_UNIT = '2.5.4.11';

/**
 * Everything a pass signature needs, parsed and checked once per wallet configuration so that
 * signing a pass costs one hash and one private-key operation.
 */
export class PassSigningMaterial {
  readonly privateKey: KeyObject;
  readonly keyType: PassSigningKeyType;
  readonly digestAlgorithm: PassDigestAlgorithm;
  readonly certificate: X509Certificate;
  readonly certificateDer: Buffer;
  readonly wwdrCertificateDer: Buffer;
  /** The pass certificate's issuer Name, exactly as encoded in the certificate. */
  readonly issuerNameDer: Buffer;
  /** The pass certificate's serialNumber INTEGER element (tag, length, value). */
  readonly serialNumberDer: Buffer;
  /** Subject UID of an Apple Pass Type ID certificate. */
  readonly passTypeIdentifier: string | undefined;
  /** Subject OU of an Apple Pass Type ID certificate. */
  readonly teamIdentifier: string | undefined;
  readonly validFrom: Date;
  readonly validTo: Date;

  constructor(input: PassSigningMaterialInput) {
    this.certificate = parseCertificate(input.certificatePem, 'certificatePem');
    const wwdr = parseCertificate(input.wwdrCertificatePem, 'wwdrCertificatePem');
    this.privateKey = parsePrivateKey(input.privateKeyPem, input.privateKeyPassphrase);

    const keyType = this.privateKey.asymmetricKeyType;
    if (keyType !== 'rsa' && keyType !== 'ec') {
      throw new PassSigningMaterialError(
        'privateKeyPem',
        `unsupported private key type "${keyType ?? 'unknown'}": use an RSA (or EC) key`,
      );
    }
    this.keyType = keyType;
    if (!this.certificate.checkPrivateKey(this.privateKey)) {
      throw new PassSigningMaterialError(
        'privateKeyPem',
        'the private key does not belong to the pass certificate',
      );
    }
    if (!this.certificate.checkIssued(wwdr) || !this.certificate.verify(wwdr.publicKey)) {
      throw new PassSigningMaterialError(
        'wwdrCertificatePem',
        `the pass certificate was not issued by this WWDR certificate (pass certificate issuer: ${oneLine(this.certificate.issuer)}; WWDR subject: ${oneLine(wwdr.subject)})`,
      );
    }

    this.digestAlgorithm = input.digestAlgorithm ?? 'sha256';
    this.certificateDer = this.certificate.raw;
    this.wwdrCertificateDer = wwdr.raw;

    const fields = readTbsFields(this.certificateDer);
    this.issuerNameDer = fields.issuerNameDer;
    this.serialNumberDer = fields.serialNumberDer;
    this.passTypeIdentifier = fields.subject.get(OID_USER_ID);
    this.teamIdentifier = fields.subject.get(OID_ORGANIZATIONAL_UNIT);
    this.validFrom = new Date(this.certificate.validFrom);
    this.validTo = new Date(this.certificate.validTo);
  }

  isValidAt(at: Date): boolean {
    return at >= this.validFrom && at <= this.validTo;
  }
}

/** PEM copied through an environment variable often arrives with literal `\n`. */
function normalisePem(pem: string | Buffer): string {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  return !text.includes('\n') && text.includes('\\n') ? text.replace(/\\n/g, '\n') : text;
}

function oneLine(name: string): string {
  return name.split('\n').join(', ');
}

function parseCertificate(pem: string | Buffer, field: PassSigningMaterialField): X509Certificate {
  const text = normalisePem(pem);
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new PassSigningMaterialError(
      field,
      `${field} is not a PEM certificate (no BEGIN CERTIFICATE line)`,
    );
  }
  try {
    return new X509Certificate(text);
  } catch (cause) {
    throw new PassSigningMaterialError(field, `${field} could not be parsed as an X.509 certificate`, {
      cause,
    });
  }
}

function parsePrivateKey(pem: string | Buffer, passphrase: string | undefined): KeyObject {
  const text = normalisePem(pem);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new PassSigningMaterialError('privateKeyPem', 'privateKeyPem is not a PEM private key');
  }
  const encrypted =
    text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || text.includes('Proc-Type: 4,ENCRYPTED');
  if (encrypted && passphrase === undefined) {
    throw new PassSigningMaterialError(
      'privateKeyPassphrase',
      'the private key is encrypted and no passphrase was given',
    );
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase: encrypted ? passphrase : undefined });
  } catch (cause) {
    if (encrypted) {
      throw new PassSigningMaterialError(
        'privateKeyPassphrase',
        'the private key could not be decrypted with this passphrase',
        {
          cause,
        },
      );
    }
    throw new PassSigningMaterialError(
      'privateKeyPem',
      'privateKeyPem could not be parsed as a private key',
      { cause },
    );
  }
}

interface TbsFields {
  serialNumberDer: Buffer;
  issuerNameDer: Buffer;
  /** First value per attribute type OID. */
  subject: Map<string, string>;
}

/** TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, ... } */
function readTbsFields(der: Buffer): TbsFields {
  const certificate = readElement(der, 0);
  const tbs = readChildren(der, certificate)[0];
  if (certificate.tag !== DerTag.Sequence || tbs?.tag !== DerTag.Sequence) {
    throw new PassSigningMaterialError('certificatePem', 'unexpected certificate structure');
  }
  const parts = readChildren(der, tbs);
  const first = parts[0]?.tag === 0xa0 ? 1 : 0;
  const serial = parts[first];
  const issuer = parts[first + 2];
  const subject = parts[first + 4];
  if (serial?.tag !== DerTag.Integer || issuer?.tag !== DerTag.Sequence || subject?.tag !== DerTag.Sequence) {
    throw new PassSigningMaterialError('certificatePem', 'unexpected TBSCertificate structure');
  }
  return {
    serialNumberDer: elementBytes(der, serial),
    issuerNameDer: elementBytes(der, issuer),
    subject: readName(der, subject),
  };
}

/** Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } */
function readName(der: Buffer, name: DerElement): Map<string, string> {
  const out = new Map<string, string>();
  for (const rdn of readChildren(der, name)) {
    for (const attribute of readChildren(der, rdn)) {
      const [type, value] = readChildren(der, attribute);
      if (type?.tag !== DerTag.Oid || value === undefined) continue;
      const key = decodeOid(contentBytes(der, type));
      const text = decodeString(value.tag, contentBytes(der, value));
      if (text !== undefined && !out.has(key)) out.set(key, text);
    }
  }
  return out;
}
