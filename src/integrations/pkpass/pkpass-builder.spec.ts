import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKPass } from 'passkit-generator';
import * as yauzl from 'yauzl';

import { FIELD_GROUPS } from '../../domain/pass-design/campaign-template';
import { createTestPki, type PassCertificate, type TestPki } from '../../../test/support/certs';
import { crc32, encodePng } from '../../common/png';
import { defaultIconFiles } from './default-icon';
import { buildPassJson } from './pass-json.mapper';
import { PassSigningMaterial } from './pass-signing-material';
import { buildPkpass, PkpassFileNameError } from './pkpass-builder';

jest.setTimeout(60_000);

interface ZippedFile {
  data: Buffer;
  compressionMethod: number;
  crc32: number;
}

function unzip(archive: Buffer): Promise<Map<string, ZippedFile>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(archive, { lazyEntries: true }, (openError, zip) => {
      if (openError) return reject(openError);
      const files = new Map<string, ZippedFile>();
      zip.on('error', reject);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', reject);
          stream.on('end', () => {
            files.set(entry.fileName, {
              data: Buffer.concat(chunks),
              compressionMethod: entry.compressionMethod,
              crc32: entry.crc32,
            });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

function fileData(files: Map<string, ZippedFile>, name: string): Buffer {
  const file = files.get(name);
  if (!file) throw new Error(`${name} missing from the archive`);
  return file.data;
}

function openssl(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let pki: TestPki;
let cert: PassCertificate;
let material: PassSigningMaterial;
let work: string;

/** Writes manifest + signature to a fresh folder and runs `openssl smime -verify` against the test root. */
function verifySignature(manifest: Buffer, signature: Buffer) {
  const dir = mkdtempSync(join(work, 'verify-'));
  writeFileSync(join(dir, 'manifest.json'), manifest);
  writeFileSync(join(dir, 'signature'), signature);
  // prettier-ignore
  return openssl(['smime', '-verify', '-binary', '-inform', 'DER', '-in', 'signature', '-content', 'manifest.json',
    '-CAfile', pki.rootFile, '-purpose', 'any', '-out', '/dev/null'], dir);
}

function artwork(): Record<string, Buffer> {
  const rgba = (w: number, h: number) => new Uint8Array(w * h * 4).map((_, i) => (i * 37) & 0xff);
  return {
    ...defaultIconFiles(),
    'logo.png': encodePng(160, 50, rgba(160, 50)),
    'logo@2x.png': encodePng(320, 100, rgba(320, 100)),
    'strip.png': encodePng(375, 123, rgba(375, 123)),
  };
}

function passJson(serialNumber = 'serial-0001') {
  return buildPassJson({
    style: 'storeCard',
    passTypeIdentifier: cert.passTypeIdentifier,
    teamIdentifier: cert.teamIdentifier,
    serialNumber,
    authenticationToken: 'abcdefghijklmnopqrstuvwxyz012345',
    webServiceURL: 'https://wallet.example.com/apple',
    template: {
      organizationName: 'Example Coffee',
      description: 'Example Coffee loyalty card',
      logoText: 'Example Coffee',
      backgroundColor: '#1f2937',
      foregroundColor: '#fff',
      headerFields: [
        { key: 'points', label: 'Points', value: '1250', changeMessage: 'You now have %@ points' },
      ],
      primaryFields: [{ key: 'name', label: 'Member', value: 'Zoë Ñandú' }],
      secondaryFields: [],
      auxiliaryFields: [{ key: 'tier', label: 'Tier', value: 'Gold' }],
      backFields: [{ key: 'terms', value: 'Points expire after 12 months.' }],
      barcode: { format: 'QR', message: 'MEMBER-0001', altText: 'MEMBER 0001' },
    },
  });
}

beforeAll(() => {
  pki = createTestPki();
  cert = pki.issuePassCertificate();
  material = new PassSigningMaterial({
    certificatePem: cert.certificatePem,
    privateKeyPem: cert.privateKeyPem,
    wwdrCertificatePem: pki.wwdr.certPem,
  });
  work = mkdtempSync(join(tmpdir(), 'pkpass-spec-'));
});

afterAll(() => {
  pki.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('buildPkpass', () => {
  it('zips pass.json, the images, manifest.json and signature at the root, hashed in the manifest', async () => {
    const images = artwork();
    const json = passJson();
    const files = await unzip(await buildPkpass({ passJson: json, files: images, signing: material }));

    const names = [...files.keys()].sort();
    expect(names).toEqual(['manifest.json', 'pass.json', 'signature', ...Object.keys(images)].sort());
    expect(JSON.parse(fileData(files, 'pass.json').toString('utf8'))).toEqual(json);

    const manifest = JSON.parse(fileData(files, 'manifest.json').toString('utf8')) as Record<string, string>;
    expect(Object.keys(manifest).sort()).toEqual(['pass.json', ...Object.keys(images)].sort());
    for (const [name, sha1] of Object.entries(manifest)) {
      expect(createHash('sha1').update(fileData(files, name)).digest('hex')).toBe(sha1);
    }
    for (const [name, image] of Object.entries(images)) {
      expect(fileData(files, name).equals(image)).toBe(true);
      expect(files.get(name)?.compressionMethod).toBe(0);
    }
    for (const [name, file] of files) {
      expect({ name, crc: crc32(file.data) }).toEqual({ name, crc: file.crc32 });
    }
  });

  it('signs the manifest so that openssl verifies it against the root, and not once it changes', async () => {
    const files = await unzip(
      await buildPkpass({ passJson: passJson(), files: artwork(), signing: material }),
    );
    const manifest = fileData(files, 'manifest.json');
    const signature = fileData(files, 'signature');

    const good = verifySignature(manifest, signature);
    expect(good.stderr).toContain('Verification successful');
    expect(good.status).toBe(0);

    const tampered = Buffer.from(manifest);
    tampered[10]! ^= 0x01;
    const bad = verifySignature(tampered, signature);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/digest failure/);
  });

  it('embeds the signing time, the digest algorithm and both certificates', async () => {
    const signingTime = new Date('2025-03-04T05:06:07Z');
    const files = await unzip(
      await buildPkpass({ passJson: passJson(), files: artwork(), signing: material, signingTime }),
    );
    const dir = mkdtempSync(join(work, 'print-'));
    writeFileSync(join(dir, 'signature'), fileData(files, 'signature'));
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'signature'], dir);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(
      /object: signingTime \(1\.2\.840\.113549\.1\.9\.5\)\s+set:\s+UTCTIME:Mar +4 05:06:07 2025 GMT/,
    );
    expect(printed.stdout).toContain('contentType (1.2.840.113549.1.9.3)');
    expect(printed.stdout).toContain('messageDigest (1.2.840.113549.1.9.4)');
    expect(printed.stdout).toContain('algorithm: sha256 (2.16.840.1.101.3.4.2.1)');
    expect(printed.stdout).toContain('eContent: <ABSENT>');

    const certs = openssl(['pkcs7', '-inform', 'DER', '-in', 'signature', '-print_certs', '-noout'], dir);
    expect(certs.stdout).toContain(`subject=UID = ${cert.passTypeIdentifier}`);
    expect(certs.stdout).toContain(
      'subject=CN = Apple Worldwide Developer Relations Certification Authority, OU = G4',
    );
  });

  it('signs with SHA-1 when the material asks for it', async () => {
    const sha1Material = new PassSigningMaterial({
      certificatePem: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
      wwdrCertificatePem: pki.wwdr.certPem,
      digestAlgorithm: 'sha1',
    });
    const files = await unzip(
      await buildPkpass({ passJson: passJson(), files: artwork(), signing: sha1Material }),
    );
    const result = verifySignature(fileData(files, 'manifest.json'), fileData(files, 'signature'));
    expect(result.stderr).toContain('Verification successful');
  });

  it('signs with an EC key', async () => {
    // prettier-ignore
    const steps = [
      ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ec.key'],
      ['req', '-new', '-key', 'ec.key', '-subj', '/UID=pass.com.example.ec/CN=EC pass/OU=ECTEAM0001', '-out', 'ec.csr'],
      ['x509', '-req', '-in', 'ec.csr', '-CA', 'wwdr.pem', '-CAkey', 'wwdr.key', '-CAcreateserial', '-days', '30',
        '-sha256', '-extfile', 'leaf.ext', '-out', 'ec.pem'],
    ];
    for (const step of steps) expect(openssl(step, pki.dir).status).toBe(0);
    const ecMaterial = new PassSigningMaterial({
      certificatePem: readFileSync(join(pki.dir, 'ec.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(pki.dir, 'ec.key'), 'utf8'),
      wwdrCertificatePem: pki.wwdr.certPem,
    });
    expect(ecMaterial.keyType).toBe('ec');
    expect(ecMaterial.teamIdentifier).toBe('ECTEAM0001');
    const files = await unzip(
      await buildPkpass({ passJson: passJson(), files: artwork(), signing: ecMaterial }),
    );
    const result = verifySignature(fileData(files, 'manifest.json'), fileData(files, 'signature'));
    expect(result.stderr).toContain('Verification successful');
    expect(result.status).toBe(0);
  });

  it('deflates localisation strings in sub-folders and lists them in the manifest', async () => {
    const strings = Buffer.from('"Points" = "Punkte";\n'.repeat(20), 'utf8');
    const files = await unzip(
      await buildPkpass({
        passJson: passJson(),
        files: { ...defaultIconFiles(), 'de.lproj/pass.strings': strings },
        signing: material,
      }),
    );
    expect(files.get('de.lproj/pass.strings')?.compressionMethod).toBe(8);
    expect(fileData(files, 'de.lproj/pass.strings').equals(strings)).toBe(true);
    const manifest = JSON.parse(fileData(files, 'manifest.json').toString('utf8')) as Record<string, string>;
    expect(manifest['de.lproj/pass.strings']).toBe(createHash('sha1').update(strings).digest('hex'));
  });

  it.each([
    '../icon.png',
    '/icon.png',
    'a/../icon.png',
    './icon.png',
    'a//icon.png',
    'a\\icon.png',
    '',
    'pass.json',
    'manifest.json',
    'signature',
  ])('rejects the file name %p', async (name) => {
    const files = { 'icon.png': defaultIconFiles()['icon.png'], [name]: Buffer.from('x') };
    await expect(buildPkpass({ passJson: passJson(), files, signing: material })).rejects.toThrow(
      PkpassFileNameError,
    );
  });
});

describe('buildPkpass compared with passkit-generator', () => {
  it('produces the same pass.json keys and image manifest entries, and both signatures verify', async () => {
    const images = artwork();
    const json = passJson('serial-compare');
    const native = await unzip(await buildPkpass({ passJson: json, files: images, signing: material }));

    const reference = new PKPass(
      { ...images, 'pass.json': Buffer.from(JSON.stringify(json)) },
      { wwdr: pki.wwdr.certPem, signerCert: cert.certificatePem, signerKey: cert.privateKeyPem },
    );
    const generated = await unzip(reference.getAsBuffer());

    expect([...native.keys()].sort()).toEqual([...generated.keys()].sort());

    const nativeJson = JSON.parse(fileData(native, 'pass.json').toString('utf8')) as Record<string, unknown>;
    const generatedJson = JSON.parse(fileData(generated, 'pass.json').toString('utf8')) as Record<
      string,
      unknown
    >;
    // prettier-ignore
    const keys = ['formatVersion', 'passTypeIdentifier', 'teamIdentifier', 'serialNumber', 'organizationName',
      'description', 'logoText', 'backgroundColor', 'foregroundColor', 'authenticationToken', 'webServiceURL',
      'barcodes'];
    for (const key of keys) {
      expect({ key, value: nativeJson[key] }).toEqual({ key, value: generatedJson[key] });
      expect(nativeJson[key]).toBeDefined();
    }
    // passkit-generator writes every field group, empty ones as []; the native mapper omits those.
    const nativeStyle = nativeJson.storeCard as Record<string, unknown>;
    const generatedStyle = generatedJson.storeCard as Record<string, unknown>;
    expect(Object.keys(nativeStyle).length).toBeGreaterThan(0);
    for (const group of FIELD_GROUPS) {
      expect({ group, fields: nativeStyle[group] ?? [] }).toEqual({
        group,
        fields: generatedStyle[group] ?? [],
      });
    }

    const nativeManifest = JSON.parse(fileData(native, 'manifest.json').toString('utf8')) as Record<
      string,
      string
    >;
    const generatedManifest = JSON.parse(fileData(generated, 'manifest.json').toString('utf8')) as Record<
      string,
      string
    >;
    for (const name of Object.keys(images)) {
      expect({ name, sha1: nativeManifest[name] }).toEqual({ name, sha1: generatedManifest[name] });
    }

    const nativeResult = verifySignature(fileData(native, 'manifest.json'), fileData(native, 'signature'));
    const generatedResult = verifySignature(
      fileData(generated, 'manifest.json'),
      fileData(generated, 'signature'),
    );
    expect(nativeResult.stderr).toContain('Verification successful');
    expect(generatedResult.stderr).toContain('Verification successful');
  });
});
