import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  js: 'application/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  json: 'application/json; charset=utf-8',
};

/** Hashed file names Vite writes under assets/: nothing else is served from disk. */
const ASSET = /^assets\/[A-Za-z0-9_.-]+\.([a-z0-9]+)$/;

// Inline style attributes come from React (charts, pass colours); images are campaign assets,
// uploads being designed (data:) and Google's image URLs in the preview (https:).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** dist/console of this checkout, found from here whether the code runs built (dist/src/…) or from sources. */
export function consoleDirectory(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'nest-cli.json'))) break;
    const parent = dirname(dir);
    if (parent === dir) return join(process.cwd(), 'dist', 'console');
    dir = parent;
  }
  return join(dir, 'dist', 'console');
}

/**
 * Serves the marketer console (built by Vite into dist/console) at /console: hashed assets with
 * a year-long immutable cache, every other path below /console the SPA's index.html (no-cache),
 * so the console's own routes survive a reload. Plain Fastify routes: no Nest guard, no OpenAPI
 * entry — the page itself is public, everything it shows comes from the authenticated API.
 */
export function registerConsole(fastify: FastifyInstance, root = consoleDirectory()): void {
  let index: Buffer | null = null;
  const loadIndex = (): Buffer | null => {
    if (index) return index;
    try {
      index = readFileSync(join(root, 'index.html'));
    } catch {
      return null;
    }
    return index;
  };

  const sendIndex = (reqId: string, reply: FastifyReply) => {
    const page = loadIndex();
    if (!page) {
      return reply.status(404).send({
        error: {
          code: 'NOT_FOUND',
          message: 'The console is not built: run `npm run build`',
          correlationId: reqId,
        },
      });
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', CSP)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'same-origin')
      .send(page);
  };

  fastify.get('/console', (req, reply) => sendIndex(req.id, reply));
  fastify.get<{ Params: { '*': string } }>('/console/*', async (req, reply) => {
    const rest = req.params['*'];
    const asset = ASSET.exec(rest);
    if (asset) {
      const type = CONTENT_TYPES[asset[1] ?? ''];
      if (type) {
        try {
          const body = await readFile(join(root, rest));
          return reply
            .type(type)
            .header('Cache-Control', 'public, max-age=31536000, immutable')
            .header('X-Content-Type-Options', 'nosniff')
            .send(body);
        } catch {
          // fall through to 404 below
        }
      }
      return reply
        .status(404)
        .send({ error: { code: 'NOT_FOUND', message: 'No such console asset', correlationId: req.id } });
    }
    return sendIndex(req.id, reply);
  });
}
