// Loads .proto files with protobufjs and finds the message types of a unary method by its path.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// Compiled into dist/bench/, so the repository root is two levels up.
const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

export const protoIncludeDirDefault = path.join(repositoryRoot, 'proto');
export const chargingProtoFile = path.join(protoIncludeDirDefault, 'iobilling/charging/v1/charging.proto');
export const chargingServicePath = '/iobilling.charging.v1.ChargingService';
/** The service's own no-op RPC, served when BENCH_NOOP_ENABLED=true: the gRPC ceiling. */
export const benchProtoFile = path.join(protoIncludeDirDefault, 'iobilling/bench/v1/bench.proto');
export const benchNoopMethodPath = '/iobilling.bench.v1.BenchService/Noop';

export interface UnaryMethodTypes {
  /** '/<package.Service>/<Method>' */
  methodPath: string;
  requestType: protobuf.Type;
  /** Undefined when neither given nor found: responses are then checked but not decoded. */
  responseType: protobuf.Type | undefined;
}

/**
 * Loads proto files. Imports resolve against includeDirs first (as protoc -I does), then next to
 * the importing file; google/protobuf/*.proto come from protobufjs's bundled common types.
 */
export async function loadProtoRoot(protoFiles: readonly string[], includeDirs: readonly string[]): Promise<protobuf.Root> {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const includeDir of includeDirs) {
      const candidate = path.join(includeDir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  await root.load([...protoFiles], { keepCase: false });
  root.resolveAll();
  return root;
}

/** Finds a method's request and response types; explicit type names win over the service's. */
export function resolveUnaryMethod(
  root: protobuf.Root,
  methodPath: string,
  requestTypeName?: string,
  responseTypeName?: string,
): UnaryMethodTypes {
  const match = /^\/([\w.]+)\/(\w+)$/.exec(methodPath);
  if (match === null) throw new RangeError(`method path must be /<package.Service>/<Method>, got "${methodPath}"`);
  const method = findMethod(root, match[1]!, match[2]!);
  const requestType = requestTypeName !== undefined ? root.lookupType(requestTypeName) : method?.resolvedRequestType;
  if (requestType === undefined || requestType === null) {
    throw new RangeError(`no request type for ${methodPath}: the method is not in the loaded protos, give requestType`);
  }
  const responseType =
    responseTypeName !== undefined ? root.lookupType(responseTypeName) : (method?.resolvedResponseType ?? undefined);
  return { methodPath, requestType, responseType };
}

function findMethod(root: protobuf.Root, serviceName: string, methodName: string): protobuf.Method | undefined {
  const service = root.lookup(serviceName);
  if (!(service instanceof protobuf.Service)) return undefined;
  return service.methods[methodName];
}

/** Encodes a message given as protobufjs JSON (camelCase names, enums by name or number). */
export function encodeFromObject(type: protobuf.Type, message: Record<string, unknown>): Uint8Array {
  const problem = type.verify(type.fromObject(message));
  if (problem !== null) throw new RangeError(`invalid ${type.fullName}: ${problem}`);
  return type.encode(type.fromObject(message)).finish();
}
