// The one catalogue of error codes. Every failure that leaves the service is an AppError with
// one of these codes; the transports map it to a gRPC status and an HTTP status from here, so
// the two APIs can never disagree. The README's error table is checked against this list.
import { status as GrpcStatus } from '@grpc/grpc-js';

export const errorCatalogue = {
  INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, summary: 'A field is malformed or out of range; the message names it.' },
  IDEMPOTENCY_CONFLICT: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, summary: 'The idempotency key was already used with a different payload.' },
  REQUEST_NUMBER_TOO_OLD: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 409, summary: 'The request number is older than the answers kept for the session.' },
  CURRENCY_MISMATCH: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422, summary: "The amount's currency is not the wallet's." },
  BALANCE_LIMIT: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422, summary: 'The balance would leave the range an amount can hold.' },
  NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404, summary: 'The customer, device, tariff or route does not exist.' },
  CONFLICT: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, summary: 'The resource exists with other settings that cannot change.' },
  UNAUTHENTICATED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, summary: 'The admin API needs the bearer token.' },
  PAYLOAD_TOO_LARGE: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413, summary: 'The body is larger than BODY_BYTES_MAX.' },
  UNSUPPORTED_MEDIA_TYPE: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 415, summary: 'The body is not application/json.' },
  CHARGING_IN_PROGRESS: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 409, summary: 'Rebuild refused: charging traffic is flowing (open reservations, or balance changes within the last minute); rebuild is for a Redis that lost its data, with the gateways stopped.' },
  HEADERS_TOO_LARGE: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 431, summary: 'The request line and headers are larger than the server reads (HTTP only).' },
  REQUEST_TIMEOUT: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 408, summary: 'The request was not received within HTTP_REQUEST_TIMEOUT_MS (HTTP only).' },
  CONTENTION: { grpc: GrpcStatus.ABORTED, http: 503, summary: 'The balance kept changing under the request; retry it.' },
  // A call may have reached Redis before it stopped answering, and Redis then applies it when it
  // resumes: only a retry under the same idempotency key is safe, and it gets the applied answer.
  REDIS_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503, summary: 'Outcome unknown: retry with the same key. Redis did not answer in time, and may still apply the request; a retry under the same idempotency key gets its answer and applies it at most once.' },
  DATABASE_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503, summary: 'PostgreSQL cannot be reached (admin API only).' },
  INTERNAL: { grpc: GrpcStatus.INTERNAL, http: 500, summary: 'A bug; the details are logged, never sent.' },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * The gRPC status of a code. A request whose outcome is unknown after the client's deadline
 * passed is DEADLINE_EXCEEDED, as grpc-js clients report a deadline themselves, so gateways
 * retry both alike.
 */
export function grpcStatusOf(code: ErrorCode, deadlinePassed: boolean): GrpcStatus {
  if (code === 'REDIS_UNAVAILABLE' && deadlinePassed) return GrpcStatus.DEADLINE_EXCEEDED;
  return errorCatalogue[code].grpc;
}

/** One of several problems found in one input, e.g. each mistake in a catalog file. */
export interface Problem {
  /** The path of the field, e.g. `plans[0].versions[1].tariff`. */
  field: string;
  message: string;
  /** 1-based line of the field in the YAML (or JSON) text it came from, when known. */
  line?: number;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request field at fault, in proto field names, e.g. `items[0].requested_units`. */
    readonly field?: string,
    /** Every problem, when an input is refused whole for more than one; the message names the first. */
    readonly problems?: readonly Problem[],
  ) {
    super(field === undefined ? message : `${field}: ${message}`);
  }
}

export function invalid(field: string, message: string): AppError {
  return new AppError('INVALID_ARGUMENT', message, field);
}

/** Any thrown value → AppError; what is not already one is a bug or a lost connection. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (!(error instanceof Error)) return new AppError('INTERNAL', 'internal error');
  if (isRedisConnectionError(error)) return new AppError('REDIS_UNAVAILABLE', 'Redis is unavailable; outcome unknown: retry with the same key');
  if (isDatabaseConnectionError(error)) return new AppError('DATABASE_UNAVAILABLE', 'PostgreSQL is unavailable');
  return new AppError('INTERNAL', 'internal error');
}

/**
 * ioredis rejects commands with its own messages when it has no usable connection; a server
 * that is loading its data, failing over or stuck in a script answers with these error codes.
 */
function isRedisConnectionError(error: Error): boolean {
  return (
    /^(LOADING|BUSY|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN) /.test(error.message) ||
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    error.message === 'Connection is closed.' ||
    /Stream isn't writeable|enableOfflineQueue|Command timed out|max retries per request|Failed to refresh slots cache|Cluster isn't ready/.test(error.message)
  );
}

/** node-postgres passes socket errors through, and PostgreSQL says it is shutting down by SQLSTATE. */
function isDatabaseConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE' ||
    code === '57P01' || code === '57P02' || code === '57P03' ||
    /Connection terminated|timeout exceeded when trying to connect/.test(error.message)
  );
}
