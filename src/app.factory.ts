import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LogController, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { clientErrorHandler, frameworkErrors, installInputPolicy } from './common/http/input-policy';
import { createValidationPipe } from './common/http/validation';
import { createRootLogger, PinoNestLogger } from './common/logging/logger';
import { RequestLogger } from './common/logging/request-logger';
import { installFastAsyncResourceBind } from './common/runtime/async-resource-bind';
import { ensureDatabaseExists, resolveDevelopmentSecrets, runMigrations } from './database/prepare-database';
import { MetricsService } from './modules/metrics/metrics.service';
import { protectOperationsRoutes } from './modules/metrics/operations-access';
import { registerConsole } from './modules/console/console-static';
import { limitDeviceLogBody } from './modules/apple-web-service/apple-protocol';

export interface BootOptions {
  logDestination?: DestinationStream;
}

/** Database creation, migrations and development secrets: everything that must precede Nest. */
export async function prepare(config: AppConfig, log: Logger): Promise<void> {
  if (await ensureDatabaseExists(config.databaseUrl)) log.info({}, 'created database');
  if (config.migrationsRun) await runMigrations(config.databaseUrl, log);
  await resolveDevelopmentSecrets(config, log);
}

export async function createApiApp(
  config: AppConfig,
  opts: BootOptions = {},
): Promise<NestFastifyApplication> {
  installFastAsyncResourceBind();
  const log = createRootLogger(config.logLevel, opts.logDestination);
  await prepare(config, log);

  const adapter = new FastifyAdapter({
    loggerInstance: log,
    // One access-log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // req.log without a pino child per request (see RequestLogger).
    childLoggerFactory: RequestLogger.factory(log),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: 12 * 1024 * 1024,
    // X-Forwarded-For is believed only from the configured proxies (TRUSTED_PROXIES).
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    ...serverTimeouts(config),
    // Link tokens travel as a path parameter; Fastify's default limit is 100 characters.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 16384 },
    return503OnClosing: true,
    // Requests refused before routing answer in the service's error shape too.
    frameworkErrors,
    clientErrorHandler,
  });
  adapter.getInstance().addHook('onRoute', limitDeviceLogBody);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(log),
    bufferLogs: false,
    // Request bodies are parsed by the input policy (installInputPolicy), not by Nest's parsers.
    bodyParser: false,
  });
  app.enableShutdownHooks();
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());

  const fastify = app.getHttpAdapter().getInstance();
  protectOperationsRoutes(fastify, config.metricsToken);
  installInputPolicy(fastify, { jsonMaxDepth: config.jsonMaxDepth });
  fastify.addHook('onSend', async (req, reply, payload) => {
    void reply.header('x-request-id', req.id);
    return payload;
  });
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    // The route pattern, not the URL: link tokens in paths carry personal data.
    req.log.info(
      { method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
    metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  const doc = new DocumentBuilder()
    .setTitle('wallet-service')
    .setDescription(
      'Campaign-driven Apple Wallet and Google Wallet passes. Tenant routes take `Authorization: Bearer <api key>`; ' +
        'tenant creation takes the platform admin token. Errors are `{ error: { code, message, fields?, correlationId } }`.',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque API key (wsk_<lookup id>_<secret>; not a JWT)',
        description:
          'A tenant API key: an opaque random token shown once at creation (POST /api/v1/tenants or ' +
          'POST /api/v1/api-keys) and stored only hashed. Acts with the admin role.',
      },
      'api-key',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque token',
        description: "The operator's PLATFORM_ADMIN_TOKEN; only for creating tenants.",
      },
      'platform-admin',
    )
    .addCookieAuth(
      'wallet_session',
      {
        type: 'apiKey',
        in: 'cookie',
        name: 'wallet_session',
        description:
          "Console session from POST /api/v1/auth/login (HttpOnly, SameSite=Strict). Acts with the user's role. " +
          'POST, PUT, PATCH and DELETE also need the X-CSRF-Token header (the csrfToken from sign-in).',
      },
      'session',
    )
    .build();
  // The UI is served from swagger-ui-dist by two plain routes (no @fastify/static, whose
  // dependencies need Node 22).
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'docs/openapi.json',
    swaggerUiEnabled: false,
  });
  registerDocsUi(fastify);
  registerConsole(fastify);

  return app;
}

/** File name → content type; a Map, so prototype names (`constructor`, `toString`) are not files. */
const SWAGGER_ASSETS = new Map<string, string>(
  Object.entries({
    'swagger-ui.css': 'text/css; charset=utf-8',
    'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
    'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
    'favicon-32x32.png': 'image/png',
  }),
);

function registerDocsUi(fastify: FastifyInstance): void {
  const dist = dirname(require.resolve('swagger-ui-dist/package.json'));
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wallet-service API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });</script>
</body></html>`;
  fastify.get('/docs', (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  fastify.get<{ Params: { file: string } }>('/docs/assets/:file', async (req, reply) => {
    const type = SWAGGER_ASSETS.get(req.params.file);
    if (!type) {
      return reply
        .status(404)
        .send({ error: { code: 'NOT_FOUND', message: 'No such asset', correlationId: req.id } });
    }
    const body = await readFile(join(dist, req.params.file));
    return reply.type(type).header('Cache-Control', 'public, max-age=86400').send(body);
  });
}

export async function createWorkerContext(
  config: AppConfig,
  opts: BootOptions = {},
): Promise<INestApplicationContext> {
  installFastAsyncResourceBind();
  const log = createRootLogger(config.logLevel, opts.logDestination);
  await prepare(config, log);
  const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: new PinoNestLogger(log),
  });
  ctx.enableShutdownHooks();
  return ctx;
}

/**
 * Bounds on how long one client may hold a connection: headers must arrive within
 * HTTP_HEADERS_TIMEOUT_MS and the whole request within HTTP_REQUEST_TIMEOUT_MS (a body that
 * trickles in is answered 408 and the socket closed), an idle kept-alive connection is closed
 * after HTTP_KEEP_ALIVE_TIMEOUT_MS, any silent socket after HTTP_IDLE_TIMEOUT_MS. Node checks
 * the first two every `connectionsCheckingInterval`, so that interval is kept short.
 */
function serverTimeouts(config: AppConfig) {
  return {
    connectionTimeout: config.httpIdleTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    http: {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(config.httpHeadersTimeoutMs / 4))),
    },
  };
}
