import type { pki } from 'node-forge';
import { ApiError } from './client';

export interface AppleCredentials {
  passTypeIdentifier: string;
  teamIdentifier: string;
  certificatePem: string;
  privateKeyPem: string;
  wwdrCertificatePem: string;
}

const UID = '0.9.2342.19200300.100.1.1';
const OU = '2.5.4.11';
const OID_KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const OID_SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3';

function refused(field: string, message: string): ApiError {
  return new ApiError(400, 'VALIDATION_FAILED', message, [{ field, message }]);
}

/**
 * Opens a .p12 export (Keychain Access: certificate + private key, often with Apple's WWDR
 * intermediate) in the browser and returns the PEM fields the wallet-configuration API takes.
 * node-forge is loaded only here, so it is not part of the console's first load.
 */
export async function appleCredentialsFromP12(
  p12File: Blob,
  password: string,
  wwdrFile: Blob | null,
): Promise<AppleCredentials> {
  const { default: forge } = await import('node-forge');
  const bytes = new Uint8Array(await p12File.arrayBuffer());
  let p12: ReturnType<typeof forge.pkcs12.pkcs12FromAsn1>;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.binary.raw.encode(bytes));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, password);
  } catch {
    throw refused(
      'apple.p12Password',
      'The .p12 file could not be opened: wrong password, or not a .p12 file',
    );
  }
  const bags = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const keyBags = [...bags(OID_SHROUDED_KEY_BAG), ...bags(OID_KEY_BAG)];
  const key = keyBags.find((b) => b.key)?.key;
  if (!key)
    throw refused(
      'apple.p12',
      'The .p12 file has no private key: export the certificate together with its key',
    );
  const certs = bags(OID_CERT_BAG).flatMap((b) => (b.cert ? [b.cert] : []));
  const rsaKey = key;
  const pass = certs.find((c) => {
    const pub = c.publicKey as pki.rsa.PublicKey;
    return pub.n !== undefined && pub.n.equals(rsaKey.n);
  });
  if (!pass) throw refused('apple.p12', 'The .p12 file has no certificate for its private key');
  const attr = (type: string) => pass.subject.attributes.find((a) => a.type === type)?.value;
  const passTypeIdentifier = attr(UID);
  const teamIdentifier = attr(OU);
  if (typeof passTypeIdentifier !== 'string' || typeof teamIdentifier !== 'string') {
    throw refused('apple.p12', 'This is not a Pass Type ID certificate (its subject has no UID and OU)');
  }
  let wwdr: pki.Certificate | undefined = certs.find(
    (c) => c !== pass && c.subject.hash === pass.issuer.hash,
  );
  if (!wwdr && wwdrFile) {
    const raw = new Uint8Array(await wwdrFile.arrayBuffer());
    const text = new TextDecoder().decode(raw);
    try {
      wwdr = text.includes('-----BEGIN CERTIFICATE-----')
        ? forge.pki.certificateFromPem(text)
        : forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.binary.raw.encode(raw)));
    } catch {
      throw refused('apple.wwdrCertificatePem', 'The WWDR file is not a certificate (.cer or .pem)');
    }
  }
  if (!wwdr) {
    throw refused(
      'apple.wwdrCertificatePem',
      "The .p12 file does not include Apple's WWDR certificate: add it (AppleWWDRCAG4.cer) below",
    );
  }
  return {
    passTypeIdentifier,
    teamIdentifier,
    certificatePem: forge.pki.certificateToPem(pass),
    privateKeyPem: forge.pki.privateKeyToPem(key),
    wwdrCertificatePem: forge.pki.certificateToPem(wwdr),
  };
}
