import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console is served by the service itself at /console (src/modules/console). `npm run build`
 * writes it to dist/console after `nest build`; `npm run console:dev` serves it with hot reload and
 * forwards API calls to the service on API_ORIGIN (default http://localhost:3000).
 */
const here = dirname(fileURLToPath(import.meta.url));
const apiOrigin = process.env.API_ORIGIN ?? 'http://localhost:3000';

export default defineConfig({
  root: here,
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: resolve(here, '..', 'dist', 'console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': apiOrigin,
      '/docs': apiOrigin,
    },
  },
});
