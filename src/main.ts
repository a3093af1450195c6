import 'reflect-metadata';
import { createApiApp, createWorkerContext } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`wallet-service: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  if (config.role === 'worker') {
    await createWorkerContext(config);
    return;
  }
  const app = await createApiApp(config);
  await app.listen(config.port, '0.0.0.0');
}

main().catch((err: unknown) => {
  process.stderr.write(`wallet-service failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
