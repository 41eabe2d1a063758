// The same UnaryTransport on a plain @grpc/grpc-js client, only to compare against the light
// client under one driver (what the generator would cost if it used the stock library).
import grpc from '@grpc/grpc-js';
import { GrpcCallError, GrpcStatus, type PreparedRequest, type UnaryTransport } from './grpc-light-client.js';

const passThrough = (bytes: Buffer): Buffer => bytes;
const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export interface GrpcJsUnaryClientOptions {
  target: string;
  /** Channels (each its own connection) to spread calls over, round-robin. */
  sessionCount: number;
  /** Per-call deadline; 0 sets none. */
  deadlineMs: number;
}

export class GrpcJsUnaryClient implements UnaryTransport {
  private readonly clients: grpc.Client[];
  private nextClientIndex = 0;

  constructor(private readonly options: GrpcJsUnaryClientOptions) {
    this.clients = Array.from(
      { length: options.sessionCount },
      // A distinct channel option keeps grpc-js from sharing one subchannel between clients.
      (_, index) => new grpc.Client(options.target, grpc.credentials.createInsecure(), { 'bench.channel_index': index }),
    );
  }

  prepareRequest(message: Uint8Array): PreparedRequest {
    return toBuffer(message) as unknown as PreparedRequest;
  }

  async connect(): Promise<void> {
    const deadline = Date.now() + 10_000;
    await Promise.all(
      this.clients.map(
        (client) =>
          new Promise<void>((resolve, reject) =>
            client.waitForReady(deadline, (error) =>
              error ? reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, error.message)) : resolve(),
            ),
          ),
      ),
    );
  }

  unary(methodPath: string, request: PreparedRequest): Promise<Uint8Array> {
    const client = this.clients[this.nextClientIndex]!;
    this.nextClientIndex = (this.nextClientIndex + 1) % this.clients.length;
    const callOptions: grpc.CallOptions =
      this.options.deadlineMs > 0 ? { deadline: Date.now() + this.options.deadlineMs } : {};
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        methodPath,
        passThrough,
        passThrough,
        request as unknown as Buffer,
        callOptions,
        (error: grpc.ServiceError | null, response?: Buffer) => {
          if (error) reject(new GrpcCallError(error.code, error.details));
          else resolve(response!);
        },
      );
    });
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
  }
}
