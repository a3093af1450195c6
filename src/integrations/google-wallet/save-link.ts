import { createPrivateKey, type KeyObject } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import type { GoogleServiceAccountKey, GoogleWalletType } from './google-wallet.client';

export interface SaveLinkInput {
  serviceAccountKey: GoogleServiceAccountKey;
  /** `GOOGLE_SAVE_URL`, e.g. `https://pay.google.com/gp/v/save` */
  saveUrlPrefix: string;
  objectType: GoogleWalletType;
  objectId: string;
  classId: string;
  /** Origins allowed to host the web button; plain links need none. */
  origins?: string[];
}

/** Claims of a "skinny" save JWT: it names an object already inserted through the REST API. */
export interface SaveLinkClaims {
  iss: string;
  aud: 'google';
  typ: 'savetowallet';
  iat: number;
  origins: string[];
  payload: Partial<Record<`${GoogleWalletType}Objects`, Array<{ id: string; classId: string }>>>;
}

const MAX_CACHED_KEYS = 500;
/** Parsing a PEM costs far more than signing with an already parsed key, so keep them parsed. */
const parsedKeys = new Map<string, KeyObject>();

function privateKeyObject(pem: string): KeyObject {
  const cached = parsedKeys.get(pem);
  if (cached) return cached;
  const key = createPrivateKey(pem);
  parsedKeys.set(pem, key);
  if (parsedKeys.size > MAX_CACHED_KEYS) {
    const oldest = parsedKeys.keys().next();
    if (!oldest.done) parsedKeys.delete(oldest.value);
  }
  return key;
}

/** `<saveUrlPrefix>/<JWT>`: the "Add to Google Wallet" link for one object, RS256-signed by the service account. */
export function signSaveLink(input: SaveLinkInput): string {
  const claims: SaveLinkClaims = {
    iss: input.serviceAccountKey.client_email,
    aud: 'google',
    typ: 'savetowallet',
    iat: Math.floor(Date.now() / 1000),
    origins: input.origins ?? [],
    payload: { [`${input.objectType}Objects`]: [{ id: input.objectId, classId: input.classId }] },
  };
  const keyId = input.serviceAccountKey.private_key_id;
  const token = sign(claims, privateKeyObject(input.serviceAccountKey.private_key), {
    algorithm: 'RS256',
    ...(keyId ? { keyid: keyId } : {}),
  });
  return `${input.saveUrlPrefix.replace(/\/+$/, '')}/${token}`;
}
