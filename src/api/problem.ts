// RFC 9457 problem+json: the one error shape every route, hook and fastify failure becomes.
// Stable `code`s come from src/domain/errors.ts; no stack trace or SQL text ever leaves.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ErrorCode, FieldError } from '../domain/index.ts';
import { GomanError, UnprocessableError } from '../domain/index.ts';
import { zodFieldErrors } from '../domain/zod-errors.ts';
import type { Problem } from './schemas.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  NAME_TAKEN: 409,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

const TITLE: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Invalid request',
  NOT_FOUND: 'Not found',
  NAME_TAKEN: 'Name taken',
  CONFLICT: 'Conflict',
  PRECONDITION_FAILED: 'Precondition failed',
  UNAUTHENTICATED: 'Unauthenticated',
  FORBIDDEN: 'Forbidden',
  RATE_LIMITED: 'Too many requests',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Internal error',
};

/** A GomanError that also fixes the HTTP status (415, 405: statuses with no code of their own). */
export class HttpProblem extends GomanError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string, errors?: FieldError[]) {
    super(code, message, errors);
    this.status = status;
  }
}

export function statusFor(code: ErrorCode): number {
  return STATUS[code];
}

export function problemBody(status: number, code: ErrorCode, detail: string, requestId: string, errors?: FieldError[]): Problem {
  const body: Problem = {
    type: `https://goman.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLE[code],
    status,
    detail,
    code,
    requestId,
  };
  if (errors?.length) body.errors = errors;
  return body;
}

interface Mapped {
  status: number;
  code: ErrorCode;
  detail: string;
  errors?: FieldError[] | undefined;
  internal: boolean;
}

// Fastify's own errors (body parsing, content types, limits), by their stable error codes.
function fromFastify(error: FastifyError): Mapped | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'request body exceeds 1 MiB', internal: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 415 : 400,
        code: 'VALIDATION_FAILED',
        detail: error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported content type: send application/json' : 'invalid content-length',
        errors: [{ path: 'content-type', message: 'must be application/json (or application/merge-patch+json for PATCH)' }],
        internal: false,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'request body is empty', errors: [{ path: '(body)', message: 'must be a JSON document' }], internal: false };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'the URL is malformed (check its percent-encoding)', errors: [{ path: '(url)', message: 'malformed' }], internal: false };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'VALIDATION_FAILED', detail: 'request body is not valid JSON', errors: [{ path: '(body)', message: 'malformed JSON' }], internal: false };
    default:
      break;
  }
  // JSON.parse failures and prototype-poisoning refusals surface as 400s without a code.
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return { status: 400, code: 'VALIDATION_FAILED', detail: 'request body is not valid JSON', errors: [{ path: '(body)', message: 'malformed JSON' }], internal: false };
  }
  return null;
}

export function mapError(error: unknown): Mapped {
  if (error instanceof HttpProblem) return { status: error.status, code: error.code, detail: error.message, errors: error.errors, internal: false };
  if (error instanceof UnprocessableError) return { status: 422, code: error.code, detail: error.message, errors: error.errors, internal: false };
  if (error instanceof GomanError && error.code !== 'INTERNAL') {
    return { status: STATUS[error.code], code: error.code, detail: error.message, errors: error.errors, internal: false };
  }
  if (error instanceof z.ZodError) {
    return { status: 400, code: 'VALIDATION_FAILED', detail: 'request failed validation', errors: zodFieldErrors(error), internal: false };
  }
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('FST_')) {
    const mapped = fromFastify(error as FastifyError);
    if (mapped) return mapped;
  }
  if (error instanceof SyntaxError) {
    return { status: 400, code: 'VALIDATION_FAILED', detail: 'request body is not valid JSON', errors: [{ path: '(body)', message: 'malformed JSON' }], internal: false };
  }
  return { status: 500, code: 'INTERNAL', detail: 'internal error; quote the request id when reporting it', internal: true };
}

export function sendProblem(reply: FastifyReply, status: number, code: ErrorCode, detail: string, errors?: FieldError[]): FastifyReply {
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(problemBody(status, code, detail, String(reply.request.id), errors));
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const m = mapError(error);
  if (m.internal) request.log.error({ err: error }, 'request failed');
  else if (m.status >= 500) request.log.warn({ code: m.code, detail: m.detail }, 'request refused');
  return sendProblem(reply, m.status, m.code, m.detail, m.errors);
}

/**
 * Node's HTTP parser refuses some requests before fastify has a request for them (a request
 * line or headers over the limit, a malformed header, a request that arrives too slowly).
 * fastify's `clientErrorHandler`: answer those in the problem shape, with a request id, too.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail, path]: [number, string, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request did not arrive in time; send it again', '(request)']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the URL and headers together exceed 16 KiB; shorten the query string or the headers', '(headers)']
        : [400, 'malformed HTTP request', '(request)'];
  const id = randomUUID();
  const body = JSON.stringify(problemBody(status, 'VALIDATION_FAILED', detail, id, [{ path, message: detail }]));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
