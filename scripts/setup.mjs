// First-run helper: checks that PostgreSQL and Redis answer and builds the service.
// The service itself creates its database and runs migrations on start.
import { execSync } from 'node:child_process';
import net from 'node:net';

function reachable(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 }, () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

const db = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/wallet');
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
for (const [name, host, port] of [
  ['PostgreSQL', db.hostname, Number(db.port || 5432)],
  ['Redis', redis.hostname, Number(redis.port || 6379)],
]) {
  if (!(await reachable(host, port))) {
    console.error(`wallet-service setup: ${name} is not reachable at ${host}:${port}. Start it, or set ${name === 'Redis' ? 'REDIS_URL' : 'DATABASE_URL'}.`);
    process.exit(1);
  }
  console.log(`wallet-service setup: ${name} answers at ${host}:${port}`);
}
execSync('npm run build', { stdio: 'inherit' });
