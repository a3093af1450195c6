import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yauzl from 'yauzl';

/** Every entry of a zip archive, by name. */
export function unzip(buf: Buffer): Promise<Record<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const files: Record<string, Buffer> = {};
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files[entry.fileName] = Buffer.concat(chunks);
            zip.readEntry();
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => resolve(files));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

export interface CheckedPass {
  files: Record<string, Buffer>;
  passJson: Record<string, any>;
  manifest: Record<string, string>;
}

/**
 * Unzips a .pkpass and checks it as Wallet would: every file in the manifest with the right SHA-1,
 * nothing unlisted, and a CMS signature over manifest.json that openssl verifies against `rootFile`.
 */
export async function checkPkpass(buf: Buffer, rootFile: string): Promise<CheckedPass> {
  const files = await unzip(buf);
  const manifest = JSON.parse(files['manifest.json']!.toString('utf8')) as Record<string, string>;
  const listed = Object.keys(manifest).sort();
  const present = Object.keys(files)
    .filter((n) => n !== 'manifest.json' && n !== 'signature')
    .sort();
  if (JSON.stringify(listed) !== JSON.stringify(present)) {
    throw new Error(`manifest lists ${listed.join(',')} but bundle has ${present.join(',')}`);
  }
  for (const [name, sha1] of Object.entries(manifest)) {
    const actual = createHash('sha1').update(files[name]!).digest('hex');
    if (actual !== sha1) throw new Error(`manifest SHA-1 of ${name} is ${sha1}, file has ${actual}`);
  }
  opensslVerify(files['signature']!, files['manifest.json']!, rootFile);
  return { files, passJson: JSON.parse(files['pass.json']!.toString('utf8')), manifest };
}

export function opensslVerify(signature: Buffer, content: Buffer, rootFile: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'pkpass-verify-'));
  try {
    writeFileSync(join(dir, 'signature'), signature);
    writeFileSync(join(dir, 'manifest.json'), content);
    execFileSync(
      'openssl',
      [
        'smime',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        'signature',
        '-content',
        'manifest.json',
        '-CAfile',
        rootFile,
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
