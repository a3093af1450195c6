import { createPrivateKey, type KeyObject } from 'node:crypto';
import { DomainError, ErrorCode } from '../../common/errors';
import type { GoogleCredentials, GoogleServiceAccountKey } from './wallet-configuration.types';

export const ISSUER_ID_PATTERN = /^\d{1,25}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_KEY_JSON_LENGTH = 16 * 1024;
/** RS256 (save links, token assertions) needs an RSA modulus of at least 2,048 bits. */
const MIN_RSA_BITS = 2048;
/** Fields of Google's key file that, when present, are strings. */
const OPTIONAL_STRING_FIELDS = [
  'private_key_id',
  'project_id',
  'client_id',
  'auth_uri',
  'token_uri',
  'auth_provider_x509_cert_url',
  'client_x509_cert_url',
  'universe_domain',
] as const;

export interface GoogleCredentialsInput {
  issuerId: string;
  serviceAccountKey: unknown;
}

function reject(code: ErrorCode, field: string, message: string): DomainError {
  const path = `google.${field}`;
  return new DomainError(code, `${path}: ${message}`, [{ field: path, message }]);
}

function keyError(field: string | null, message: string): DomainError {
  return reject(
    'INVALID_SERVICE_ACCOUNT_KEY',
    field ? `serviceAccountKey.${field}` : 'serviceAccountKey',
    message,
  );
}

/**
 * Checks a Google issuer id and service-account key file (the JSON Google Cloud issues), so that
 * a wrong upload is refused now rather than at the first Wallet API call. Messages never contain
 * key material.
 */
export function checkGoogleCredentials(input: GoogleCredentialsInput): GoogleCredentials {
  if (!ISSUER_ID_PATTERN.test(input.issuerId)) {
    throw reject(
      'VALIDATION_FAILED',
      'issuerId',
      'must be 1 to 25 digits (the issuer id from the Google Pay & Wallet Console)',
    );
  }
  const raw = input.serviceAccountKey;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw keyError(null, "must be the service-account key file's JSON object");
  }
  const key = raw as Record<string, unknown>;
  if (JSON.stringify(key).length > MAX_KEY_JSON_LENGTH) {
    throw keyError(null, `must be at most ${MAX_KEY_JSON_LENGTH} characters of JSON`);
  }
  if (key.type !== 'service_account') {
    throw keyError(
      'type',
      'must be "service_account" (create a key for a service account in Google Cloud IAM)',
    );
  }
  if (
    typeof key.client_email !== 'string' ||
    !EMAIL_PATTERN.test(key.client_email) ||
    key.client_email.length > 320
  ) {
    throw keyError('client_email', "must be the service account's email address");
  }
  if (typeof key.private_key !== 'string') {
    throw keyError('private_key', 'must be a PEM private key string');
  }
  for (const field of OPTIONAL_STRING_FIELDS) {
    if (key[field] !== undefined && typeof key[field] !== 'string') throw keyError(field, 'must be a string');
  }

  const privateKeyPem = normalisePem(key.private_key);
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKeyPem)) {
    throw keyError('private_key', 'is not an unencrypted PEM private key (a "BEGIN PRIVATE KEY" block)');
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    throw keyError('private_key', 'could not be parsed as a private key');
  }
  const keyType = keyObject.asymmetricKeyType;
  if (keyType !== 'rsa') {
    throw keyError('private_key', `is a ${keyType ?? 'unknown'} key; service-account keys are RSA`);
  }
  const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw keyError(
      'private_key',
      `is a ${bits}-bit RSA key; Google's RS256 signatures need at least ${MIN_RSA_BITS} bits`,
    );
  }

  const serviceAccountKey: GoogleServiceAccountKey = {
    ...key,
    type: 'service_account',
    client_email: key.client_email,
    private_key: privateKeyPem,
  };
  return { issuerId: input.issuerId, serviceAccountKey };
}

/** A key pasted through an environment variable may carry literal `\n` instead of newlines. */
function normalisePem(pem: string): string {
  return !pem.includes('\n') && pem.includes('\\n') ? pem.replace(/\\r?\\n/g, '\n') : pem;
}
