import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, dropTestDatabase } from './support/db';
import { linkPath, makeLinks } from './support/fixtures';
import { spawnService } from './support/processes';
import { startTestApp } from './support/test-app';

describe('configuration at start (e2e)', () => {
  it('generates development keys once, says so, and keeps them across restarts', async () => {
    const dbName = await createTestDatabase();
    try {
      const first = await startTestApp({ LINK_SIGNING_KEYS: '', SECRETS_ENCRYPTION_KEY: '' }, dbName);
      let path: string;
      try {
        expect(first.logs.text()).toContain('generated a development LINK_SIGNING_KEYS');
        expect(first.logs.text()).toContain('generated a development SECRETS_ENCRYPTION_KEY');
        const key = (await first.createTenant()).apiKey;
        [path] = (
          await makeLinks(first, key, [{ campaignId: randomUUID(), platform: 'APPLE', contact: { id: 'c' } }])
        ).map(linkPath) as [string];
      } finally {
        await first.close();
      }
      const second = await startTestApp({ LINK_SIGNING_KEYS: '', SECRETS_ENCRYPTION_KEY: '' }, dbName);
      try {
        expect(second.logs.text()).not.toContain('generated a development');
        expect(second.logs.text()).toContain('using the development key stored in the database');
        // Same key: the link verifies and only the (random) campaign is missing.
        const res = await second.request('GET', path);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('CAMPAIGN_NOT_FOUND');
      } finally {
        await second.close();
      }
    } finally {
      await dropTestDatabase(dbName);
    }
  });

  it('refuses to start in production without its keys, naming what is missing', async () => {
    const main = join(__dirname, '..', 'dist', 'src', 'main.js');
    if (!existsSync(main))
      throw new Error('dist/src/main.js is missing: run `npm run build` (npm test does)');
    const p = spawnService({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'http://insecure.example' });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(78);
    const out = p.output.join('\n');
    expect(out).toContain('LINK_SIGNING_KEYS');
    expect(out).toContain('SECRETS_ENCRYPTION_KEY');
    expect(out).toContain('PUBLIC_BASE_URL (must be https)');
  });
});
