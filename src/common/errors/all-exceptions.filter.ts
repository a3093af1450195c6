import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, FieldError } from './domain-error';
import { ERROR_STATUS, ErrorCode } from './error-codes';

interface ErrorBody {
  error: { code: string; message: string; fields?: FieldError[]; correlationId: string };
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * The one place errors become HTTP. Domain errors and Nest/Fastify client errors keep their
 * status and message; anything else is a 500 whose details go only to the log, with the
 * correlation id (the request id) in both.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const correlationId = String(req.id);
    const { status, body, headers } = this.describe(exception, correlationId);
    if (status === 400 && body.error.code === 'VALIDATION_FAILED' && !body.error.fields?.length) {
      // Framework-level 400s (a body shorter than its Content-Length, …) name what was wrong too.
      const field = /body|json|content/i.test(body.error.message) ? 'body' : 'request';
      body.error.fields = [{ field, message: body.error.message }];
    }

    if (status >= 500) {
      this.logger.error(
        // The route pattern, never the URL: link tokens travel in paths and carry contact data.
        { err: exception, correlationId, method: req.method, route: req.routeOptions.url ?? 'unmatched' },
        'request failed',
      );
    }
    if (reply.sent) return;
    if (headers) void reply.headers(headers);
    if (prefersHtml(req)) {
      void reply
        .status(status)
        .type('text/html; charset=utf-8')
        .send(renderHtml(status, body.error.message, correlationId));
      return;
    }
    void reply.status(status).type('application/json; charset=utf-8').send(body);
  }

  private describe(
    exception: unknown,
    correlationId: string,
  ): { status: number; body: ErrorBody; headers?: Record<string, string> } {
    if (exception instanceof DomainError) {
      return {
        status: exception.status,
        headers: exception.headers,
        body: {
          error: {
            code: exception.code,
            message: exception.message,
            fields: exception.fields,
            correlationId,
          },
        },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      let message = exception.message;
      let fields: FieldError[] | undefined;
      if (typeof response === 'object' && response !== null) {
        const r = response as { message?: unknown; fields?: FieldError[] };
        if (Array.isArray(r.message)) message = r.message.map(String).join('; ');
        else if (typeof r.message === 'string') message = r.message;
        fields = r.fields;
      }
      if (status >= 500) return internal(correlationId);
      return {
        status,
        body: { error: { code: CODE_BY_STATUS[status] ?? 'ERROR', message, fields, correlationId } },
      };
    }
    // Fastify's own client errors (bad JSON, body too large, unsupported media type).
    const fe = exception as { statusCode?: unknown; code?: unknown; message?: unknown };
    if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const status = fe.statusCode;
      const message =
        fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? `Request body is not valid JSON: ${String(fe.message)}`
          : String(fe.message);
      return {
        status,
        body: { error: { code: CODE_BY_STATUS[status] ?? 'BAD_REQUEST', message, correlationId } },
      };
    }
    return internal(correlationId);
  }
}

function internal(correlationId: string) {
  return {
    status: ERROR_STATUS.INTERNAL_ERROR,
    body: {
      error: {
        code: 'INTERNAL_ERROR',
        message: `Something went wrong on our side. Quote correlation id ${correlationId} when reporting it.`,
        correlationId,
      },
    },
  };
}

/** End users tapping "Add to Wallet" links in a browser get a readable page instead of JSON. */
function prefersHtml(req: FastifyRequest): boolean {
  if (!req.url.startsWith('/api/pass/')) return false;
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderHtml(status: number, message: string, correlationId: string): string {
  const title =
    status === 410
      ? 'This offer has ended'
      : status === 404
        ? 'Pass not found'
        : status >= 500
          ? 'Please try again shortly'
          : 'This link does not work';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}small{color:#777}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><small>Reference: ${escapeHtml(correlationId)}</small></p></body></html>`;
}
