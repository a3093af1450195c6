import 'reflect-metadata';
import { Logger } from '@nestjs/common';
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
    new Logger('Main').log({ role: config.role }, 'wallet-service worker started');
    return;
  }
  const app = await createApiApp(config);
  await app.listen(config.port, '0.0.0.0');
  new Logger('Main').log({ role: config.role, port: config.port }, 'wallet-service listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`wallet-service failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
