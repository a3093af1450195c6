import { randomBytes } from 'node:crypto';
import { SecretBox, SecretDecryptionError } from './secret-box';

describe('SecretBox', () => {
  const k1 = { version: 1, key: randomBytes(32) };
  const k2 = { version: 2, key: randomBytes(32) };

  it('round-trips and never stores the plaintext', () => {
    const box = new SecretBox([k1]);
    const ct = box.encrypt('-----BEGIN PRIVATE KEY-----secret', 'cfg:1');
    expect(ct.startsWith('v1.')).toBe(true);
    expect(ct).not.toContain('PRIVATE');
    expect(box.decrypt(ct, 'cfg:1')).toBe('-----BEGIN PRIVATE KEY-----secret');
  });

  it('uses a fresh IV each time', () => {
    const box = new SecretBox([k1]);
    expect(box.encrypt('x', 'a')).not.toBe(box.encrypt('x', 'a'));
  });

  it('rejects ciphertext bound to another purpose or tampered with', () => {
    const box = new SecretBox([k1]);
    const ct = box.encrypt('secret', 'cfg:1');
    expect(() => box.decrypt(ct, 'cfg:2')).toThrow(SecretDecryptionError);
    const parts = ct.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'cfg:1')).toThrow(SecretDecryptionError);
    expect(() => box.decrypt('garbage', 'cfg:1')).toThrow(SecretDecryptionError);
  });

  it('rotates: the newest key encrypts, old ciphertext still decrypts', () => {
    const old = new SecretBox([k1]).encrypt('secret', 'a');
    const rotated = new SecretBox([k2, k1]);
    expect(rotated.decrypt(old, 'a')).toBe('secret');
    expect(rotated.needsRotation(old)).toBe(true);
    const fresh = rotated.encrypt('secret', 'a');
    expect(fresh.startsWith('v2.')).toBe(true);
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(() => new SecretBox([k2]).decrypt(old, 'a')).toThrow(/version 1/);
  });
});
