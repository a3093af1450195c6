import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test PKI made with the openssl CLI: a root CA, a WWDR-like intermediate, Pass Type ID
 * certificates (subject UID = pass type id, OU = team id) and TLS server certificates for local
 * fakes. Nothing here is a fixture checked into git: every run makes its own keys.
 */
export interface TestCa {
  keyPem: string;
  certPem: string;
}

export interface PassCertificate {
  passTypeIdentifier: string;
  teamIdentifier: string;
  certificatePem: string;
  privateKeyPem: string;
  /** Set when the key was written encrypted. */
  privateKeyPassphrase?: string;
}

export interface TestPki {
  root: TestCa;
  wwdr: TestCa;
  /** Root CA file path (PEM) for `openssl smime -verify -CAfile`. */
  rootFile: string;
  dir: string;
  issuePassCertificate(opts?: PassCertOptions): PassCertificate;
  /** Another intermediate CA under the same root (e.g. a WWDR look-alike that is not Apple's). */
  issueIntermediate(subject: string): TestCa;
  issueServerCertificate(hosts?: string[]): { certPem: string; keyPem: string };
  /** A fresh RSA key that matches no certificate. */
  unrelatedKeyPem(): string;
  cleanup(): void;
}

export interface PassCertOptions {
  passTypeIdentifier?: string;
  teamIdentifier?: string;
  /** Issue a certificate whose validity ended yesterday. */
  expired?: boolean;
  passphrase?: string;
  commonName?: string;
  /** RSA modulus length of the pass key (default 2048). */
  keyBits?: number;
  /** Leave the subject's UID (pass type id) or OU (team id) out. */
  omitUid?: boolean;
  omitTeam?: boolean;
  /** The CA that signs it (default: the WWDR intermediate). */
  issuer?: TestCa;
}

function openssl(args: string[], cwd: string, input?: string): string {
  return execFileSync('openssl', args, { cwd, input, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');
}

let counter = 0;

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'wallet-pki-'));
  const file = (name: string) => join(dir, name);

  openssl(['genrsa', '-out', 'root.key', '2048'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'root.key',
      '-sha256',
      '-days',
      '3650',
      '-subj',
      // Named like Apple's root and WWDR G4 (made here, with our own keys), so that the service's
      // recognition of Apple's WWDR intermediates by name accepts the default test chain.
      '/CN=Apple Root CA/OU=Apple Certification Authority/O=Apple Inc./C=US',
      '-out',
      'root.pem',
    ],
    dir,
  );
  writeFileSync(
    file('ca.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  openssl(['genrsa', '-out', 'wwdr.key', '2048'], dir);
  openssl(
    [
      'req',
      '-new',
      '-key',
      'wwdr.key',
      '-subj',
      '/CN=Apple Worldwide Developer Relations Certification Authority/OU=G4/O=Apple Inc./C=US',
      '-out',
      'wwdr.csr',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'wwdr.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      'ca.ext',
      '-out',
      'wwdr.pem',
    ],
    dir,
  );
  writeFileSync(
    file('leaf.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );

  const root = {
    keyPem: readFileSync(file('root.key'), 'utf8'),
    certPem: readFileSync(file('root.pem'), 'utf8'),
  };
  const wwdr = {
    keyPem: readFileSync(file('wwdr.key'), 'utf8'),
    certPem: readFileSync(file('wwdr.pem'), 'utf8'),
  };

  /** Files of each CA that can sign, by certificate PEM. */
  const caFiles = new Map<string, { cert: string; key: string }>([
    [wwdr.certPem, { cert: 'wwdr.pem', key: 'wwdr.key' }],
  ]);
  return {
    root,
    wwdr,
    rootFile: file('root.pem'),
    dir,
    issueIntermediate(subject: string): TestCa {
      const n = ++counter;
      openssl(['genrsa', '-out', `int${n}.key`, '2048'], dir);
      openssl(['req', '-new', '-key', `int${n}.key`, '-subj', subject, '-out', `int${n}.csr`], dir);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `int${n}.csr`,
          '-CA',
          'root.pem',
          '-CAkey',
          'root.key',
          '-CAcreateserial',
          '-days',
          '3650',
          '-sha256',
          '-extfile',
          'ca.ext',
          '-out',
          `int${n}.pem`,
        ],
        dir,
      );
      const ca = {
        keyPem: readFileSync(file(`int${n}.key`), 'utf8'),
        certPem: readFileSync(file(`int${n}.pem`), 'utf8'),
      };
      caFiles.set(ca.certPem, { cert: `int${n}.pem`, key: `int${n}.key` });
      return ca;
    },
    issuePassCertificate(opts: PassCertOptions = {}): PassCertificate {
      const n = ++counter;
      const passTypeIdentifier = opts.passTypeIdentifier ?? `pass.com.example.test${n}`;
      const teamIdentifier = opts.teamIdentifier ?? 'ABCDE12345';
      const cn = opts.commonName ?? `Pass Type ID: ${passTypeIdentifier}`;
      const issuer = caFiles.get((opts.issuer ?? wwdr).certPem);
      if (!issuer) throw new Error('issuer is not a CA of this PKI');
      openssl(['genrsa', '-out', `pass${n}.key`, String(opts.keyBits ?? 2048)], dir);
      openssl(
        [
          'req',
          '-new',
          '-key',
          `pass${n}.key`,
          '-subj',
          `${opts.omitUid ? '' : `/UID=${passTypeIdentifier}`}/CN=${cn}${opts.omitTeam ? '' : `/OU=${teamIdentifier}`}/O=Example Org/C=US`,
          '-out',
          `pass${n}.csr`,
        ],
        dir,
      );
      if (opts.expired) {
        // -not_before/-not_after arrived in OpenSSL 3.4; on 3.0 use the x509 CA flow with a
        // start and end date in the past through `openssl ca`-less trick: sign with days=1 and
        // a backdated clock is not possible, so build the certificate with `openssl ca`.
        writeFileSync(file(`ca${n}.cnf`), caConfig(dir, n));
        writeFileSync(file(`index${n}.txt`), '');
        writeFileSync(file(`serial${n}`), '1000\n');
        openssl(
          [
            'ca',
            '-batch',
            '-config',
            `ca${n}.cnf`,
            '-in',
            `pass${n}.csr`,
            '-out',
            `pass${n}.pem`,
            '-startdate',
            '20200101000000Z',
            '-enddate',
            '20210101000000Z',
            '-notext',
            '-extfile',
            'leaf.ext',
          ],
          dir,
        );
      } else {
        openssl(
          [
            'x509',
            '-req',
            '-in',
            `pass${n}.csr`,
            '-CA',
            issuer.cert,
            '-CAkey',
            issuer.key,
            '-CAcreateserial',
            '-days',
            '365',
            '-sha256',
            '-extfile',
            'leaf.ext',
            '-out',
            `pass${n}.pem`,
          ],
          dir,
        );
      }
      let privateKeyPem: string;
      if (opts.passphrase) {
        openssl(
          [
            'pkcs8',
            '-topk8',
            '-in',
            `pass${n}.key`,
            '-v2',
            'aes-256-cbc',
            '-passout',
            `pass:${opts.passphrase}`,
            '-out',
            `pass${n}.enc.key`,
          ],
          dir,
        );
        privateKeyPem = readFileSync(file(`pass${n}.enc.key`), 'utf8');
      } else {
        privateKeyPem = readFileSync(file(`pass${n}.key`), 'utf8');
      }
      return {
        passTypeIdentifier,
        teamIdentifier,
        certificatePem: readFileSync(file(`pass${n}.pem`), 'utf8'),
        privateKeyPem,
        privateKeyPassphrase: opts.passphrase,
      };
    },
    issueServerCertificate(hosts: string[] = ['localhost', '127.0.0.1']) {
      const n = ++counter;
      const san = hosts.map((h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      writeFileSync(
        file(`srv${n}.ext`),
        `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
      );
      openssl(['genrsa', '-out', `srv${n}.key`, '2048'], dir);
      openssl(
        [
          'req',
          '-new',
          '-key',
          `srv${n}.key`,
          '-subj',
          `/CN=${hosts[0] ?? 'localhost'}`,
          '-out',
          `srv${n}.csr`,
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `srv${n}.csr`,
          '-CA',
          'root.pem',
          '-CAkey',
          'root.key',
          '-CAcreateserial',
          '-days',
          '30',
          '-sha256',
          '-extfile',
          `srv${n}.ext`,
          '-out',
          `srv${n}.pem`,
        ],
        dir,
      );
      return {
        certPem: readFileSync(file(`srv${n}.pem`), 'utf8'),
        keyPem: readFileSync(file(`srv${n}.key`), 'utf8'),
      };
    },
    unrelatedKeyPem() {
      const n = ++counter;
      openssl(['genrsa', '-out', `other${n}.key`, '2048'], dir);
      return readFileSync(file(`other${n}.key`), 'utf8');
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function caConfig(dir: string, n: number): string {
  return [
    '[ ca ]',
    'default_ca = testca',
    '[ testca ]',
    `dir = ${dir}`,
    `database = ${join(dir, `index${n}.txt`)}`,
    `serial = ${join(dir, `serial${n}`)}`,
    `new_certs_dir = ${dir}`,
    `certificate = ${join(dir, 'wwdr.pem')}`,
    `private_key = ${join(dir, 'wwdr.key')}`,
    'default_md = sha256',
    'policy = anything',
    'unique_subject = no',
    'copy_extensions = none',
    'default_days = 1',
    '[ anything ]',
    'UID = optional',
    'CN = optional',
    'OU = optional',
    'O = optional',
    'C = optional',
    '',
  ].join('\n');
}

/** A Google service-account key (JSON) with a fresh RSA key, as Google Cloud would issue it. */
export function createServiceAccountKey(
  email = 'wallet@test-project.iam.gserviceaccount.com',
  modulusLength = 2048,
) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return {
    key: {
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: '1234567890',
      token_uri: 'https://oauth2.googleapis.com/token',
    },
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
