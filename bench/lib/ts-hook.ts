import { join } from 'node:path';

/** `-r` this in child processes that run TypeScript (see register-ts.cjs for why not ts-node). */
export const TS_HOOK = join(__dirname, 'register-ts.cjs');
