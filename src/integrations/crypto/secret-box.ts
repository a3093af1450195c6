import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppConfig, EncryptionKey } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';

export class SecretDecryptionError extends Error {}

/**
 * AES-256-GCM for secrets at rest. Ciphertext format: `v<version>.<iv>.<tag>.<data>` (base64url);
 * the version names the SECRETS_ENCRYPTION_KEY entry, so keys can be rotated: the newest key
 * encrypts, every configured key decrypts. The associated data binds a ciphertext to its purpose
 * (for example `wallet-configuration:<id>:apple-key`) so it cannot be moved to another row.
 */
export class SecretBox {
  private readonly current: EncryptionKey;
  private readonly byVersion: Map<number, Buffer>;

  constructor(keys: EncryptionKey[]) {
    const [current] = keys;
    if (!current) throw new Error('SecretBox needs at least one key');
    this.current = current;
    this.byVersion = new Map(keys.map((k) => [k.version, k.key]));
  }

  encrypt(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      'v' + this.current.version,
      iv.toString('base64url'),
      tag.toString('base64url'),
      data.toString('base64url'),
    ].join('.');
  }

  decrypt(ciphertext: string, aad: string): string {
    const parts = ciphertext.split('.');
    const [v, ivB64, tagB64, dataB64] = parts;
    if (parts.length !== 4 || !v || !ivB64 || !tagB64 || dataB64 === undefined || !/^v\d+$/.test(v)) {
      throw new SecretDecryptionError('malformed ciphertext');
    }
    const key = this.byVersion.get(Number(v.slice(1)));
    if (!key) throw new SecretDecryptionError(`no encryption key with version ${v.slice(1)} is configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivB64, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tagB64, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(dataB64, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretDecryptionError('ciphertext does not authenticate with the configured key');
    }
  }

  /** True when the ciphertext was made with an older key and should be re-encrypted. */
  needsRotation(ciphertext: string): boolean {
    return !ciphertext.startsWith(`v${this.current.version}.`);
  }
}

@Injectable()
export class SecretEncryptionService extends SecretBox {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super(config.secretsEncryptionKeys);
  }
}
