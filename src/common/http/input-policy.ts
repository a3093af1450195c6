import { RouteConfig } from '@nestjs/platform-fastify';
import {
  errorCodes,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { DomainError } from '../errors';
import { jsonValueProblem } from './json-policy';
import { formatFieldPath, textProblem } from './text-policy';

export interface InputPolicyOptions {
  /** Deepest JSON nesting accepted in request bodies. */
  jsonMaxDepth: number;
}

/** Fastify route config keys read by the input policy. */
interface InputPolicyRouteConfig {
  bodyTextCheckedByHandler?: boolean;
  streamedBody?: boolean;
}

/**
 * For a route that reads its body as the raw request stream (a content-type parser that hands the
 * stream through, as bulk uploads do). Every other route answers 415 to such a content type instead
 * of receiving a stream where its DTO expects a value.
 */
export const StreamedBody = (): MethodDecorator =>
  RouteConfig({ streamedBody: true } satisfies InputPolicyRouteConfig);

/**
 * For a route that answers text problems of its JSON body itself (for example with per-item errors,
 * as `POST /pers/v1/urls` does): the parser still limits nesting and refuses `__proto__`, but leaves
 * NUL and lone surrogates in strings to the handler.
 */
export const BodyTextCheckedByHandler = (): MethodDecorator =>
  RouteConfig({ bodyTextCheckedByHandler: true } satisfies InputPolicyRouteConfig);

function fieldError(path: readonly (string | number)[], message: string): DomainError {
  const field = formatFieldPath(path) || 'body';
  return DomainError.validation(field, message);
}

/**
 * One body-parsing and text policy for every route: JSON bodies are parsed here (nesting depth,
 * prototype keys, text), and path parameters, query strings and text bodies are held to the same
 * text policy before any handler runs. Every refusal is a 400 naming the field.
 */
export function installInputPolicy(fastify: FastifyInstance, options: InputPolicyOptions): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(DomainError.validation('body', 'is empty; send a JSON value or no Content-Type'));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        done(DomainError.validation('body', `is not valid JSON (${(err as Error).message})`));
        return;
      }
      const config = req.routeOptions.config as InputPolicyRouteConfig | undefined;
      // NUL and surrogates can only enter JSON as \u escapes: raw control characters are invalid
      // JSON, and the body was decoded from UTF-8 (invalid bytes become U+FFFD).
      const checkText = text.includes('\\u') && config?.bodyTextCheckedByHandler !== true;
      const problem = jsonValueProblem(parsed, { maxDepth: options.jsonMaxDepth, checkText });
      if (problem) {
        done(fieldError(problem.path, problem.message));
        return;
      }
      done(null, parsed);
    },
  );

  // HTML-form bodies become objects of strings (repeated names: arrays) under the same policy.
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      // No prototype: a field named __proto__ stays a field (and is then refused below).
      const form = Object.create(null) as Record<string, string | string[]>;
      for (const [name, value] of new URLSearchParams(
        typeof body === 'string' ? body : body.toString('utf8'),
      )) {
        const prior = form[name];
        if (prior === undefined) form[name] = value;
        else if (Array.isArray(prior)) prior.push(value);
        else form[name] = [prior, value];
      }
      const problem = jsonValueProblem(form, { maxDepth: options.jsonMaxDepth, checkText: true });
      if (problem) {
        done(fieldError(problem.path, problem.message));
        return;
      }
      done(null, form);
    },
  );

  fastify.addHook('preValidation', async (req: FastifyRequest) => {
    const body = req.body as { pipe?: unknown } | null | undefined;
    if (typeof body === 'object' && body !== null && typeof body.pipe === 'function') {
      const config = req.routeOptions.config as InputPolicyRouteConfig | undefined;
      if (config?.streamedBody !== true) {
        throw new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(String(req.headers['content-type']));
      }
    }
    const params = req.params as Record<string, unknown> | undefined;
    if (params && typeof params === 'object') {
      for (const name of Object.keys(params)) {
        const value = params[name];
        const message = typeof value === 'string' ? textProblem(value) : null;
        if (message !== null) throw fieldError([name === '*' ? 'path' : name], message);
      }
    }
    const query = req.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object') {
      for (const name of Object.keys(query)) {
        const keyMessage = textProblem(name);
        if (keyMessage !== null) throw fieldError(['query'], `parameter name ${keyMessage}`);
        const value = query[name];
        const values = Array.isArray(value) ? (value as unknown[]) : [value];
        for (const v of values) {
          const message = typeof v === 'string' ? textProblem(v) : null;
          if (message !== null) throw fieldError([name], message);
        }
      }
    }
    if (typeof req.body === 'string') {
      const message = textProblem(req.body);
      if (message !== null) throw fieldError(['body'], message);
    }
  });
}

/**
 * Fastify's `frameworkErrors`: a URL whose path or query cannot be percent-decoded (`%zz`, `%C0%AE`,
 * a lone surrogate as `%ED%A0%80`) is a 400 in the service's error shape, naming the path.
 */
export function frameworkErrors(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const badUrl = error.code === 'FST_ERR_BAD_URL';
  const field = badUrl ? 'path' : 'request';
  const message = badUrl ? 'is not a valid URL (malformed percent-encoding)' : 'could not be routed';
  void reply
    .status(400)
    .type('application/json; charset=utf-8')
    .send({
      error: {
        code: 'VALIDATION_FAILED',
        message: `${field}: ${message}`,
        fields: [{ field, message }],
        correlationId: String(req.id),
      },
    });
}

/**
 * Fastify's `clientErrorHandler`, for requests Node's HTTP parser refuses before any route runs
 * (headers or URL over 16 KiB, control characters in headers, a malformed request line, a body that
 * did not arrive in time): the service's error shape, then the connection is closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'The request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'The request line and headers exceed 16 KiB']
        : [400, 'BAD_REQUEST', 'The request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message, correlationId: randomUUID() } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
