// A grpc-js server whose handlers do nothing: every method of the given services answers one
// pre-encoded response without decoding the request. It measures the load generator and the gRPC
// stack alone, with no service behind them.
//
// Responses that have an enum field `result` carry RESULT_CODE_SUCCESS (or the enum's first
// non-zero value), so the session flow runs to completion against it; others are empty.
//
// Use: node dist/bench/noop-grpc-server.js [--host 127.0.0.1] [--port 50151]
import grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';
import { chargingProtoFile, chargingServicePath, loadProtoRoot, protoIncludeDirDefault } from './proto-messages.js';

export interface NoopGrpcServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  protoFiles: readonly string[];
  protoIncludeDirs: readonly string[];
  /** Services to serve, by path: '/<package.Service>'. */
  servicePaths: readonly string[];
}

export const noopGrpcServerDefaults: Readonly<NoopGrpcServerOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 50151,
  protoFiles: [chargingProtoFile],
  protoIncludeDirs: [protoIncludeDirDefault],
  servicePaths: [chargingServicePath],
});

export interface NoopGrpcServer {
  /** host:port it listens on. */
  target: string;
  close(): Promise<void>;
}

const passThrough = (bytes: Buffer): Buffer => bytes;

export async function startNoopGrpcServer(input: Partial<NoopGrpcServerOptions> = {}): Promise<NoopGrpcServer> {
  const options = { ...noopGrpcServerDefaults, ...input };
  const root = await loadProtoRoot(options.protoFiles, options.protoIncludeDirs);
  const server = new grpc.Server();
  for (const servicePath of options.servicePaths) {
    const service = root.lookupService(servicePath.replace(/^\//, ''));
    server.addService(noopServiceDefinition(servicePath, service), noopHandlers(service));
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    ),
  );
  return {
    target: `${options.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

function noopServiceDefinition(servicePath: string, service: protobuf.Service): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of service.methodsArray) {
    definition[method.name] = {
      path: `${servicePath}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    };
  }
  return definition;
}

function noopHandlers(service: protobuf.Service): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of service.methodsArray) {
    const response = Buffer.from(successResponse(method.resolvedResponseType!));
    handlers[method.name] = (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, response);
  }
  return handlers;
}

function successResponse(type: protobuf.Type): Uint8Array {
  const resultEnum = type.fields['result']?.resolvedType;
  if (!(resultEnum instanceof protobuf.Enum)) return type.encode({}).finish();
  const success = resultEnum.values['RESULT_CODE_SUCCESS'] ?? Object.values(resultEnum.values).find((value) => value !== 0);
  return type.encode({ result: success }).finish();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: noopGrpcServerDefaults.host },
      port: { type: 'string', default: String(noopGrpcServerDefaults.port) },
    },
  });
  const server = await startNoopGrpcServer({ host: values.host, port: Number(values.port) });
  console.log(`noop gRPC server listening on ${server.target}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
