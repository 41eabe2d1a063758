// A minimal gRPC unary client written directly on node:http2, for load generation.
//
// Why not @grpc/grpc-js: the load generator shares two cores with the server under test and
// Redis. A grpc-js client spends most of its core on channel, filter and call-stack machinery
// (it saturates near 6k calls/s), so it would measure itself instead of the server. This client
// does only what a unary call needs on the wire:
//
//   request:  HEADERS  :method POST, :path /<package.Service>/<Method>,
//                      content-type application/grpc, te trailers [, grpc-timeout]
//             DATA     1 byte compressed flag (always 0) + uint32 big-endian length + message
//   response: HEADERS  :status 200 [, grpc-status when the response is trailers-only]
//             DATA     one length-prefixed message
//             HEADERS  (trailers) grpc-status, grpc-message
//
// Per call it allocates one stream (unavoidable), one small state object and one promise; the
// listeners are shared module-level functions that find their state through a symbol.
// node:http2's own stream machinery is most of what remains (on a 2-vCPU VM about 50 µs of CPU
// per call against 60-70 µs for this client in all, and about 150 µs for a grpc-js client).
// It does not do: compression, retries, name resolution, load balancing, TLS, streaming.
import http2 from 'node:http2';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const grpcStatusNames: readonly string[] = Object.keys(GrpcStatus);

/** The name of a gRPC status code ("UNAVAILABLE"), or "STATUS_<n>" for a code outside the table. */
export function grpcStatusName(code: number): string {
  return grpcStatusNames[code] ?? `STATUS_${code}`;
}

/** A call that ended with a gRPC status other than OK (or a transport failure mapped to one). */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${grpcStatusName(code)}: ${details}`);
    this.name = 'GrpcCallError';
  }
}

declare const preparedRequestBrand: unique symbol;
/** A request message in the form a transport sends it (for this client: already framed). */
export type PreparedRequest = Uint8Array & { readonly [preparedRequestBrand]: true };

/**
 * What the load driver needs from a client, so the light client and a grpc-js client can be
 * compared under the same driver. A prepared request may be sent any number of times.
 */
export interface UnaryTransport {
  prepareRequest(message: Uint8Array): PreparedRequest;
  /** Resolves with the response message bytes; rejects with GrpcCallError. */
  unary(methodPath: string, request: PreparedRequest): Promise<Uint8Array>;
  /** Resolves once every connection is established; rejects when one cannot be. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface GrpcLightClientOptions {
  /** host:port of a plaintext (h2c) gRPC server. */
  target: string;
  /** HTTP/2 sessions (TCP connections) to spread calls over, round-robin. */
  sessionCount: number;
  /** Sent as grpc-timeout so the server gives up; 0 sends none. The client sets no timer. */
  deadlineMs: number;
  /** A response message larger than this fails the call with RESOURCE_EXHAUSTED. */
  responseBytesMax: number;
}

export const grpcLightClientDefaults: Readonly<Omit<GrpcLightClientOptions, 'target'>> = {
  sessionCount: 1,
  deadlineMs: 0,
  responseBytesMax: 4 * 1024 * 1024,
};

const frameHeaderBytes = 5;
const kCall = Symbol('grpcLightCall');
const emptyMessage = Buffer.alloc(0);

/** Frames a message once: 0 (uncompressed) + uint32 BE length + bytes. */
export function frameGrpcMessage(message: Uint8Array): PreparedRequest {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, frameHeaderBytes);
  return frame as unknown as PreparedRequest;
}

interface UnaryCall {
  resolve: (message: Uint8Array) => void;
  reject: (error: GrpcCallError) => void;
  responseBytesMax: number;
  // Almost every response arrives as one DATA chunk; more chunks are kept in a list.
  firstChunk: Buffer | undefined;
  moreChunks: Buffer[] | undefined;
  receivedBytes: number;
  httpStatus: number;
  headerGrpcStatus: string | undefined;
  headerGrpcMessage: string | undefined;
  trailerGrpcStatus: string | undefined;
  trailerGrpcMessage: string | undefined;
  streamError: Error | undefined;
  settled: boolean;
}

type CallStream = http2.ClientHttp2Stream & { [kCall]: UnaryCall };

export class GrpcLightClient implements UnaryTransport {
  readonly options: Readonly<GrpcLightClientOptions>;
  private readonly authority: string;
  private readonly sessions: (http2.ClientHttp2Session | undefined)[];
  private readonly headersByMethod = new Map<string, http2.OutgoingHttpHeaders>();
  private nextSessionIndex = 0;
  private closed = false;

  constructor(options: Partial<GrpcLightClientOptions> & { target: string }) {
    this.options = Object.freeze({ ...grpcLightClientDefaults, ...options });
    validateTarget(this.options.target);
    if (!Number.isInteger(this.options.sessionCount) || this.options.sessionCount < 1) {
      throw new RangeError(`sessionCount must be a positive integer, got ${this.options.sessionCount}`);
    }
    this.authority = `http://${this.options.target}`;
    this.sessions = new Array(this.options.sessionCount).fill(undefined);
  }

  prepareRequest(message: Uint8Array): PreparedRequest {
    return frameGrpcMessage(message);
  }

  async connect(): Promise<void> {
    await Promise.all(this.sessions.map((_, index) => waitConnected(this.sessionAt(index))));
  }

  unary(methodPath: string, request: PreparedRequest): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new GrpcCallError(GrpcStatus.CANCELLED, 'client closed'));
    const session = this.sessionAt(this.nextSessionIndex);
    this.nextSessionIndex = (this.nextSessionIndex + 1) % this.sessions.length;
    return new Promise<Uint8Array>((resolve, reject) => {
      const call: UnaryCall = {
        resolve,
        reject,
        responseBytesMax: this.options.responseBytesMax,
        firstChunk: undefined,
        moreChunks: undefined,
        receivedBytes: 0,
        httpStatus: 0,
        headerGrpcStatus: undefined,
        headerGrpcMessage: undefined,
        trailerGrpcStatus: undefined,
        trailerGrpcMessage: undefined,
        streamError: undefined,
        settled: false,
      };
      let stream: CallStream;
      try {
        stream = session.request(this.headersFor(methodPath), { endStream: false }) as CallStream;
      } catch (error) {
        // The session went away between calls (GOAWAY, reset): a later call reconnects.
        reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, errorMessage(error)));
        return;
      }
      stream[kCall] = call;
      stream.on('response', onResponse);
      stream.on('data', onData);
      stream.on('trailers', onTrailers);
      stream.on('error', onError);
      stream.on('end', onEnd);
      stream.on('close', onClose);
      stream.end(request);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.sessions.map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session === undefined || session.destroyed) return resolve();
            session.close(() => resolve());
          }),
      ),
    );
  }

  /** The session at index, (re)connecting it when it is missing, closed or going away. */
  private sessionAt(index: number): http2.ClientHttp2Session {
    const existing = this.sessions[index];
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    // (node:http2 turns Nagle off on every session's socket by itself.)
    const session = http2.connect(this.authority, {
      settings: { enablePush: false },
      // Many concurrent streams of small messages: do not let the default 10 MB cap refuse them.
      maxSessionMemory: 1024,
    });
    // Errors surface on the pending streams; a session error must not crash the process.
    session.on('error', ignoreSessionError);
    session.on('goaway', () => {
      if (this.sessions[index] === session) this.sessions[index] = undefined;
    });
    session.on('close', () => {
      if (this.sessions[index] === session) this.sessions[index] = undefined;
    });
    this.sessions[index] = session;
    return session;
  }

  private headersFor(methodPath: string): http2.OutgoingHttpHeaders {
    let headers = this.headersByMethod.get(methodPath);
    if (headers === undefined) {
      headers = {
        ':method': 'POST',
        ':scheme': 'http',
        ':authority': this.options.target,
        ':path': methodPath,
        'content-type': 'application/grpc',
        te: 'trailers',
      };
      if (this.options.deadlineMs > 0) headers['grpc-timeout'] = `${Math.ceil(this.options.deadlineMs)}m`;
      // http2 copies the object on each request, so one per method is reused safely.
      this.headersByMethod.set(methodPath, headers);
    }
    return headers;
  }
}

/** Throws unless target is host:port (an IPv6 host in brackets). */
export function validateTarget(target: string): void {
  const match = /^(?:\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})$/.exec(target);
  const port = Number(match?.[1]);
  if (match === null || port < 1 || port > 65535) throw new RangeError(`target must be host:port, got "${target}"`);
}

function waitConnected(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!session.connecting) return resolve();
    const onConnect = () => {
      session.off('error', onFailure);
      resolve();
    };
    const onFailure = (error: Error) => {
      session.off('connect', onConnect);
      reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, errorMessage(error)));
    };
    session.once('connect', onConnect);
    session.once('error', onFailure);
  });
}

function ignoreSessionError(): void {}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// Stream listeners: `this` is the stream, the call state hangs off it.

function onResponse(this: CallStream, headers: http2.IncomingHttpHeaders): void {
  const call = this[kCall];
  call.httpStatus = Number(headers[':status']);
  // A trailers-only response (usually an error) carries the status in the only HEADERS frame.
  call.headerGrpcStatus = headerString(headers['grpc-status']);
  call.headerGrpcMessage = headerString(headers['grpc-message']);
}

function onData(this: CallStream, chunk: Buffer): void {
  const call = this[kCall];
  call.receivedBytes += chunk.length;
  if (call.receivedBytes > call.responseBytesMax + frameHeaderBytes) {
    settle(call, undefined, new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, 'response larger than responseBytesMax'));
    this.close(http2.constants.NGHTTP2_CANCEL);
    return;
  }
  if (call.firstChunk === undefined) call.firstChunk = chunk;
  else (call.moreChunks ??= []).push(chunk);
}

function onTrailers(this: CallStream, trailers: http2.IncomingHttpHeaders): void {
  const call = this[kCall];
  call.trailerGrpcStatus = headerString(trailers['grpc-status']);
  call.trailerGrpcMessage = headerString(trailers['grpc-message']);
}

function onError(this: CallStream, error: Error): void {
  this[kCall].streamError = error;
}

function onEnd(this: CallStream): void {
  finish(this[kCall]);
}

function onClose(this: CallStream): void {
  // Normally the call settled at 'end'; here only on resets and session failures.
  finish(this[kCall]);
}

function finish(call: UnaryCall): void {
  if (call.settled) return;
  const grpcStatus = call.trailerGrpcStatus ?? call.headerGrpcStatus;
  if (grpcStatus === undefined) {
    settle(call, undefined, statusWithoutGrpcStatus(call));
    return;
  }
  const code = Number(grpcStatus);
  if (code !== GrpcStatus.OK) {
    const details = call.trailerGrpcMessage ?? call.headerGrpcMessage ?? '';
    settle(call, undefined, new GrpcCallError(code, safeDecodeURIComponent(details)));
    return;
  }
  const body = responseBody(call);
  if (body instanceof GrpcCallError) settle(call, undefined, body);
  else settle(call, body, undefined);
}

/** A call that ended without grpc-status: map as the gRPC HTTP/2 spec says. */
function statusWithoutGrpcStatus(call: UnaryCall): GrpcCallError {
  if (call.streamError !== undefined) {
    return new GrpcCallError(GrpcStatus.UNAVAILABLE, call.streamError.message);
  }
  if (call.httpStatus !== 0 && call.httpStatus !== 200) {
    return new GrpcCallError(grpcStatusForHttpStatus(call.httpStatus), `HTTP status ${call.httpStatus}`);
  }
  return new GrpcCallError(GrpcStatus.INTERNAL, 'stream ended without grpc-status');
}

function grpcStatusForHttpStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** The one message of a unary response, without its frame header, or why there is none. */
function responseBody(call: UnaryCall): Uint8Array | GrpcCallError {
  let data = call.firstChunk;
  if (data === undefined) return new GrpcCallError(GrpcStatus.INTERNAL, 'OK status without a response message');
  if (call.moreChunks !== undefined) data = Buffer.concat([data, ...call.moreChunks], call.receivedBytes);
  if (data.length < frameHeaderBytes) return new GrpcCallError(GrpcStatus.INTERNAL, 'truncated frame header');
  if (data[0] !== 0) return new GrpcCallError(GrpcStatus.INTERNAL, 'compressed response, none was accepted');
  const length = data.readUInt32BE(1);
  if (data.length !== frameHeaderBytes + length) {
    return new GrpcCallError(GrpcStatus.INTERNAL, `expected one message of ${length} bytes, got ${data.length - frameHeaderBytes}`);
  }
  return length === 0 ? emptyMessage : data.subarray(frameHeaderBytes);
}

function settle(call: UnaryCall, message: Uint8Array | undefined, error: GrpcCallError | undefined): void {
  if (call.settled) return;
  call.settled = true;
  if (error !== undefined) call.reject(error);
  else call.resolve(message!);
}

function safeDecodeURIComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
