// The gateway-facing gRPC transport: decode → use case → encode. Business outcomes travel in
// the response; an AppError becomes its catalogued status, with the message naming the field
// and the code in the `io-error-code` trailer. Nothing internal is ever sent.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from 'pino';
import type { ChargingService } from '../charging/charging-service.js';
import { grpcStatusOf, toAppError } from '../errors.js';
import { projectPath } from '../paths.js';
import { withStrictDeserializers, WireRefusal, type DescriptorLookup } from './wire-check.js';

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [projectPath('proto')],
};

/** Clients usually want `defaults: true`, to see fields whose value is zero. */
export function loadProtos(overrides: protoLoader.Options = {}): grpc.GrpcObject {
  const definition = protoLoader.loadSync(['iobilling/charging/v1/charging.proto', 'iobilling/bench/v1/bench.proto'], { ...LOADER_OPTIONS, ...overrides });
  return grpc.loadPackageDefinition(definition);
}

export function serviceDefinition(protos: grpc.GrpcObject, path: string): grpc.ServiceDefinition {
  const service = path.split('.').reduce<unknown>((node, name) => (node as Record<string, unknown>)[name], protos) as grpc.ServiceClientConstructor;
  return service.service;
}

/**
 * Bounds on what one client can hold. gRPC has no request timeout of its own (the client's
 * deadline is the client's), so a call stalled mid-message is bounded by the connection's age:
 * past it the client is asked to reconnect (GOAWAY, which gateways handle), and closed after the
 * grace. Idle connections are closed; keepalive pings find peers that vanished.
 */
const GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 64 * 1024,
  'grpc.max_concurrent_streams': 1000,
  'grpc.max_connection_idle_ms': 5 * 60_000,
  'grpc.max_connection_age_ms': 30 * 60_000,
  'grpc.max_connection_age_grace_ms': 30_000,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
};

export interface GrpcServerOptions {
  benchNoopEnabled: boolean;
}

export function createGrpcServer(charging: ChargingService, log: Logger, options: GrpcServerOptions): grpc.Server {
  const server = new grpc.Server(GRPC_SERVER_OPTIONS);
  const protos = loadProtos();
  const unary = <Response>(handler: (message: unknown) => Promise<Response>): grpc.handleUnaryCall<unknown, Response> =>
    (call, callback) => {
      // Started inside a promise, so even a handler that throws synchronously is answered with
      // its catalogued status, not grpc-js's UNKNOWN.
      Promise.resolve(call.request).then(refuseMalformed).then(handler).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error, log, deadlinePassed(call.getDeadline()))),
      );
    };
  server.addService(withStrictDeserializers(serviceDefinition(protos, 'iobilling.charging.v1.ChargingService'), descriptorLookup(protos, 'iobilling.charging.v1')), {
    Reserve: unary((message) => charging.reserve(message)),
    Commit: unary((message) => charging.commit(message)),
    Release: unary((message) => charging.release(message)),
    Charge: unary((message) => charging.charge(message)),
    GetBalance: unary(async (message) => withTimestamps(await charging.getBalance(message))),
    TopUp: unary((message) => charging.topUp(message)),
    PriceEnquiry: unary((message) => charging.priceEnquiry(message)),
  });
  if (options.benchNoopEnabled) {
    server.addService(serviceDefinition(protos, 'iobilling.bench.v1.BenchService'), {
      Noop: (call: grpc.ServerUnaryCall<{ payload?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, { payload: call.request.payload ?? '' }),
    });
  }
  return server;
}

/** A request the strict wire check refused reaches no use case: its refusal is the answer. */
function refuseMalformed(request: unknown): unknown {
  if (request instanceof WireRefusal) throw request.error;
  return request;
}

/**
 * Message descriptors by the name a field gives, resolved as protobuf scopes names: from the
 * service's package outwards (its messages nest no types, so the package is the only scope).
 */
function descriptorLookup(protos: grpc.GrpcObject, scope: string): DescriptorLookup {
  const at = (fullName: string) => fullName.split('.').reduce<unknown>((node, name) => (node as Record<string, unknown> | undefined)?.[name], protos) as
    { type?: ReturnType<DescriptorLookup> } | undefined;
  return (typeName) => {
    const parts = scope.split('.');
    const candidates = typeName.startsWith('.') ? [typeName.slice(1)] : [...parts.map((_, index) => [...parts.slice(0, parts.length - index), typeName].join('.')), typeName];
    const descriptor = candidates.map((name) => at(name)?.type).find((found) => found !== undefined);
    if (descriptor === undefined) throw new Error(`no descriptor for ${typeName} from ${scope}`);
    return descriptor;
  };
}

type BalanceAnswer = Awaited<ReturnType<ChargingService['getBalance']>>;

/** The use case writes times in RFC 3339, as proto3 JSON does; gRPC wants Timestamp messages. */
function withTimestamps(answer: BalanceAnswer) {
  return {
    ...answer,
    allowances: answer.allowances.map((allowance) => ({ ...allowance, valid_from: timestamp(allowance.valid_from), valid_until: timestamp(allowance.valid_until) })),
  };
}

function timestamp(rfc3339: string): { seconds: string; nanos: number } {
  const ms = Date.parse(rfc3339);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/**
 * Whether the client's deadline (none: Infinity) has passed. The deadline is the client's wall
 * clock time, so it is read against the wall clock, not the service's injectable one.
 */
function deadlinePassed(deadline: grpc.Deadline): boolean {
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return Date.now() >= deadlineMs;
}

function toServiceError(error: unknown, log: Logger, pastDeadline: boolean): Partial<grpc.ServiceError> {
  const appError = toAppError(error);
  if (appError.code === 'INTERNAL') log.error({ err: error }, 'gRPC handler failed');
  const metadata = new grpc.Metadata();
  metadata.set('io-error-code', appError.code);
  if (appError.field !== undefined) metadata.set('io-error-field', appError.field);
  return { code: grpcStatusOf(appError.code, pastDeadline), details: appError.message, metadata };
}

export function bindGrpcServer(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort)));
  });
}
