import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { DomainError, ErrorCode } from '../../common/errors';
import type { AppleCredentials } from './wallet-configuration.types';

export const PASS_TYPE_IDENTIFIER_PATTERN = /^pass\.[A-Za-z0-9.-]+$/;
export const TEAM_IDENTIFIER_PATTERN = /^[A-Z0-9]{10}$/;

export interface AppleCredentialsInput {
  passTypeIdentifier: string;
  teamIdentifier: string;
  certificatePem: string;
  privateKeyPem: string;
  privateKeyPassphrase?: string;
  wwdrCertificatePem: string;
}

export interface CheckedAppleCredentials extends AppleCredentials {
  certificateExpiresAt: Date;
}

type AppleField = keyof AppleCredentialsInput;

function reject(code: ErrorCode, field: AppleField, message: string): DomainError {
  const path = `apple.${field}`;
  return new DomainError(code, `${path}: ${message}`, [{ field: path, message }]);
}

/**
 * Checks an uploaded Pass Type ID identity the way Apple and APNs will, so that a wrong file is
 * refused at upload rather than when the first pass is signed: every certificate parses, the key
 * opens with the passphrase and belongs to the certificate, the certificate is valid now, its
 * subject names the declared pass type id (UID) and team (OU), and the WWDR certificate issued it.
 * The first problem found is reported, naming its field; messages never contain key material.
 */
export function checkAppleCredentials(
  input: AppleCredentialsInput,
  now: Date = new Date(),
): CheckedAppleCredentials {
  if (!PASS_TYPE_IDENTIFIER_PATTERN.test(input.passTypeIdentifier)) {
    throw reject('VALIDATION_FAILED', 'passTypeIdentifier', 'must look like "pass.com.example.voucher"');
  }
  if (!TEAM_IDENTIFIER_PATTERN.test(input.teamIdentifier)) {
    throw reject(
      'VALIDATION_FAILED',
      'teamIdentifier',
      'must be 10 upper-case letters or digits, e.g. "ABCDE12345"',
    );
  }

  const certificatePem = normalisePem(input.certificatePem);
  const privateKeyPem = normalisePem(input.privateKeyPem);
  const wwdrCertificatePem = normalisePem(input.wwdrCertificatePem);

  const certificate = parseCertificate(certificatePem, 'certificatePem', 'the Pass Type ID certificate');
  const { key, encrypted } = parsePrivateKey(privateKeyPem, input.privateKeyPassphrase);
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw reject(
      'INVALID_PRIVATE_KEY',
      'privateKeyPem',
      `is a ${key.asymmetricKeyType ?? 'unknown'} key; a Pass Type ID key is RSA`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType === 'rsa' && (bits === undefined || bits < MIN_RSA_BITS)) {
    throw reject(
      'INVALID_PRIVATE_KEY',
      'privateKeyPem',
      `is a ${bits ?? 'unknown'}-bit RSA key; Apple requires at least ${MIN_RSA_BITS} bits (create a new Pass Type ID certificate)`,
    );
  }
  if (!certificate.checkPrivateKey(key)) {
    throw reject(
      'INVALID_PRIVATE_KEY',
      'privateKeyPem',
      'does not belong to the certificate in certificatePem (export the key of this Pass Type ID certificate)',
    );
  }
  checkValidity(certificate, 'certificatePem', 'the certificate', now);

  const subject = parseName(certificate.subject);
  const uid = subject.get('UID') ?? subject.get('userId');
  if (uid === undefined) {
    throw reject(
      'INVALID_CERTIFICATE',
      'certificatePem',
      'carries no pass type id (subject UID): it is not a Pass Type ID certificate',
    );
  }
  if (uid !== input.passTypeIdentifier) {
    throw reject(
      'INVALID_CERTIFICATE',
      'passTypeIdentifier',
      `does not match the certificate, which is for pass type id "${uid}" (subject UID)`,
    );
  }
  const ou = subject.get('OU');
  if (ou === undefined) {
    throw reject(
      'INVALID_CERTIFICATE',
      'certificatePem',
      'carries no team id (subject OU): it is not a Pass Type ID certificate',
    );
  }
  if (ou !== input.teamIdentifier) {
    throw reject(
      'INVALID_CERTIFICATE',
      'teamIdentifier',
      `does not match the certificate, which is for team "${ou}" (subject OU)`,
    );
  }

  const wwdr = parseCertificate(wwdrCertificatePem, 'wwdrCertificatePem', 'the WWDR certificate');
  if (!certificate.checkIssued(wwdr) || !certificate.verify(wwdr.publicKey)) {
    throw reject(
      'INVALID_CERTIFICATE',
      'wwdrCertificatePem',
      `did not issue the pass certificate: the pass certificate's issuer is "${oneLine(certificate.issuer)}" but this ` +
        `certificate is "${oneLine(wwdr.subject)}". Current Pass Type ID certificates are issued by Apple WWDR G4.`,
    );
  }
  checkValidity(wwdr, 'wwdrCertificatePem', 'the WWDR certificate', now);

  return {
    passTypeIdentifier: input.passTypeIdentifier,
    teamIdentifier: input.teamIdentifier,
    certificatePem,
    privateKeyPem,
    ...(encrypted ? { privateKeyPassphrase: input.privateKeyPassphrase } : {}),
    wwdrCertificatePem,
    certificateExpiresAt: new Date(certificate.validTo),
  };
}

export const MIN_RSA_BITS = 2048;

const APPLE_WWDR_COMMON_NAME = 'Apple Worldwide Developer Relations Certification Authority';
const APPLE_ROOT_COMMON_NAMES = new Set(['Apple Root CA', 'Apple Root CA - G2', 'Apple Root CA - G3']);
export const NON_APPLE_WWDR_WARNING =
  "wwdrCertificatePem is not one of Apple's WWDR intermediates (G4 or later): passes signed with this chain will not install on devices";

/**
 * Apple's WWDR intermediates that issue Pass Type ID certificates are named
 * `CN=Apple Worldwide Developer Relations Certification Authority, OU=G<n>, O=Apple Inc., C=US`,
 * are CAs, and are issued by one of Apple's roots (`Apple Root CA`, `- G2`, `- G3`). G1-G3 no
 * longer validate new pass certificates, so only G4 and later count. The names are what is
 * checked: a chain that copies them is caught by the device, not here — this is advice to the
 * tenant, not a security boundary (the signature chain is what Wallet verifies).
 */
export function isAppleWwdrIntermediate(cert: X509Certificate): boolean {
  const subject = parseName(cert.subject);
  const issuer = parseName(cert.issuer);
  const generation = /^G(\d{1,3})$/.exec(subject.get('OU') ?? '');
  return (
    cert.ca &&
    subject.get('CN') === APPLE_WWDR_COMMON_NAME &&
    subject.get('O') === 'Apple Inc.' &&
    generation !== null &&
    Number(generation[1]) >= 4 &&
    issuer.get('O') === 'Apple Inc.' &&
    APPLE_ROOT_COMMON_NAMES.has(issuer.get('CN') ?? '')
  );
}

const warningsByWwdr = new Map<string, string[]>();

/** Advice about a stored (already validated) chain, for the configuration's response. */
export function appleChainWarnings(wwdrCertificatePem: string): string[] {
  let warnings = warningsByWwdr.get(wwdrCertificatePem);
  if (warnings === undefined) {
    let apple = false;
    try {
      apple = isAppleWwdrIntermediate(new X509Certificate(wwdrCertificatePem));
    } catch {
      apple = false;
    }
    warnings = apple ? [] : [NON_APPLE_WWDR_WARNING];
    if (warningsByWwdr.size >= 1000) warningsByWwdr.clear();
    warningsByWwdr.set(wwdrCertificatePem, warnings);
  }
  return warnings;
}

/** PEM copied through JSON or an environment variable often arrives with literal `\n`. */
function normalisePem(pem: string): string {
  const text = pem.trim();
  const restored = !text.includes('\n') && text.includes('\\n') ? text.replace(/\\r?\\n/g, '\n') : text;
  return restored.replace(/\r\n/g, '\n') + '\n';
}

function parseCertificate(pem: string, field: AppleField, what: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw reject(
      'INVALID_CERTIFICATE',
      field,
      `is not a PEM certificate: expected ${what} starting with "-----BEGIN CERTIFICATE-----"`,
    );
  }
  try {
    return new X509Certificate(pem);
  } catch {
    throw reject('INVALID_CERTIFICATE', field, `could not be parsed as an X.509 certificate (${what})`);
  }
}

function parsePrivateKey(
  pem: string,
  passphrase: string | undefined,
): { key: KeyObject; encrypted: boolean } {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw reject(
      'INVALID_PRIVATE_KEY',
      'privateKeyPem',
      'is not a PEM private key: expected a "BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY" or "BEGIN ENCRYPTED PRIVATE KEY" block',
    );
  }
  const encrypted =
    pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || pem.includes('Proc-Type: 4,ENCRYPTED');
  if (encrypted && passphrase === undefined) {
    throw reject('INVALID_PRIVATE_KEY', 'privateKeyPassphrase', 'is required: the private key is encrypted');
  }
  try {
    return {
      key: createPrivateKey({ key: pem, format: 'pem', passphrase: encrypted ? passphrase : undefined }),
      encrypted,
    };
  } catch {
    if (encrypted) {
      throw reject(
        'INVALID_PRIVATE_KEY',
        'privateKeyPassphrase',
        'does not decrypt the private key (wrong passphrase)',
      );
    }
    throw reject('INVALID_PRIVATE_KEY', 'privateKeyPem', 'could not be parsed as a private key');
  }
}

function checkValidity(certificate: X509Certificate, field: AppleField, what: string, now: Date): void {
  const from = new Date(certificate.validFrom);
  const to = new Date(certificate.validTo);
  if (to.getTime() < now.getTime()) {
    throw reject('INVALID_CERTIFICATE', field, `${what} expired on ${to.toISOString()}`);
  }
  if (from.getTime() > now.getTime()) {
    throw reject('INVALID_CERTIFICATE', field, `${what} is not valid before ${from.toISOString()}`);
  }
}

/** `X509Certificate#subject` is one `KEY=value` per line; the first value of each key wins. */
function parseName(name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of name.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

function oneLine(name: string): string {
  return name.split('\n').join(', ');
}
