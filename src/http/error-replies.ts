// Every refusal the HTTP transport sends, the framework's own included, leaves in the project's
// format: { "error": { "code", "message", "field" } } with the status the catalogue gives.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyReply } from 'fastify';
import { AppError, errorCatalogue, toAppError } from '../errors.js';

/** Fastify's own errors (body parsing, limits) mapped onto the catalogue. */
export function fromFastifyError(error: FastifyError | AppError): AppError {
  if (error instanceof AppError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'the body is larger than BODY_BYTES_MAX', 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json (a catalog also as application/yaml)', 'content-type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('INVALID_ARGUMENT', 'is empty', 'body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('INVALID_ARGUMENT', 'is not valid JSON', 'body');
    case 'FST_ERR_BAD_URL':
      return new AppError('INVALID_ARGUMENT', 'is not a valid URL path (a broken percent-escape?)', 'path');
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new AppError('INVALID_ARGUMENT', 'is not valid JSON', 'body');
  }
  return toAppError(error);
}

function errorBody(error: AppError) {
  return {
    error: {
      code: error.code, message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(error.problems === undefined ? {} : { problems: error.problems }),
    },
  };
}

export function sendError(reply: FastifyReply, error: AppError, log: FastifyBaseLogger, cause?: unknown): FastifyReply {
  if (error.code === 'INTERNAL') log.error({ err: cause ?? error }, 'HTTP handler failed');
  return reply.status(errorCatalogue[error.code].http).send(errorBody(error));
}

/** What Node's HTTP parser refuses before any route runs (Fastify's clientErrorHandler). */
function fromClientError(error: NodeJS.ErrnoException): AppError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('HEADERS_TOO_LARGE', 'the request line and headers are larger than the server reads', 'headers');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('REQUEST_TIMEOUT', 'the request was not received in time', 'request');
    default:
      return new AppError('INVALID_ARGUMENT', 'is not a well-formed HTTP/1.1 request', 'request');
  }
}

/** Answers a request Node could not read, then closes the connection, as Node itself would. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = fromClientError(error);
  const status = errorCatalogue[refusal.code].http;
  const body = JSON.stringify(errorBody(refusal));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
