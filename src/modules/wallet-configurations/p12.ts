import * as forge from 'node-forge';
import { DomainError } from '../../common/errors';

const KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';

/**
 * Reads the Pass Type ID certificate and its private key out of a PKCS#12 (`.p12`) file, as
 * exported from Keychain Access, and hands them on as PEM to the usual checks. A file that does
 * not parse answers 400 on `apple.p12Base64`, a wrong password on `apple.p12Password`.
 */
export function certificateAndKeyFromP12(
  p12Base64: string,
  password: string,
): {
  certificatePem: string;
  privateKeyPem: string;
} {
  const fail = (field: string, message: string) =>
    new DomainError('INVALID_CERTIFICATE', `apple.${field}: ${message}`, [
      { field: `apple.${field}`, message },
    ]);
  const der = Buffer.from(p12Base64.replace(/\s+/g, ''), 'base64');
  if (der.length === 0 || !/^[A-Za-z0-9+/=\s]+$/.test(p12Base64)) throw fail('p12Base64', 'is not base64');
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  } catch {
    throw fail('p12Base64', 'is not a PKCS#12 (.p12) file');
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (err) {
    const msg = err instanceof Error ? err.message : '';
    if (/password|mac|decrypt|invalid/i.test(msg)) throw fail('p12Password', 'is wrong for this .p12 file');
    throw fail('p12Base64', 'is not a PKCS#12 (.p12) file');
  }
  const bags = (type: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? [];
  const keyBags = [...bags(SHROUDED_KEY_BAG), ...bags(KEY_BAG)];
  const certBags = bags(CERT_BAG);
  const key = keyBags.find((b) => b.key)?.key;
  if (!key) throw fail('p12Base64', 'holds no private key (export the certificate together with its key)');
  const certs: forge.pki.Certificate[] = certBags.flatMap((b) => (b.cert ? [b.cert] : []));
  if (certs.length === 0) throw fail('p12Base64', 'holds no certificate');
  // The certificate that belongs to the key (a .p12 may also carry the chain).
  const cert =
    certs.find((c) => {
      const pub = c.publicKey as forge.pki.rsa.PublicKey;
      return pub.n !== undefined && key.n !== undefined && pub.n.equals(key.n);
    }) ?? certs[0]!;
  const pkcs8 = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key));
  return {
    certificatePem: forge.pki.certificateToPem(cert),
    privateKeyPem: forge.pki.privateKeyInfoToPem(pkcs8),
  };
}
