// A throw-away Redis Cluster on loopback, to prove that every script stays in one slot.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../../src/infra/redis-server.js';

export interface RedisClusterHandle {
  readonly nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);
const createTimeoutMs = 30_000;
const stateAttemptsMax = 200;
const stateIntervalMs = 50;

export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const directories: string[] = [];
  const servers: RedisServerHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
  };
  try {
    for (let index = 0; index < masters; index++) {
      // Each node needs its own directory: nodes.conf holds that node's identity.
      const directory = await mkdtemp(join(tmpdir(), 'io-billing-cluster-'));
      directories.push(directory);
      servers.push(await startRedisServer({ directory, clusterEnabled: true }));
    }
    const nodes = servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
    await createCluster(nodes);
    await waitUntilClusterOk(nodes);
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function createCluster(nodes: { host: string; port: number }[]): Promise<void> {
  const addresses = nodes.map((node) => `${node.host}:${node.port}`);
  const args = ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'];
  try {
    await execFileAsync('redis-cli', args, { timeout: createTimeoutMs });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`redis-cli --cluster create failed: ${output.message}\n${output.stdout ?? ''}${output.stderr ?? ''}`);
  }
}

/**
 * `--cluster create` returns once slots are assigned, but the nodes learn about each other
 * through gossip afterwards; until every node says ok, a client may be redirected to nowhere.
 */
async function waitUntilClusterOk(nodes: { host: string; port: number }[]): Promise<void> {
  const clients = nodes.map((node) => new Redis({ ...node, lazyConnect: true, maxRetriesPerRequest: 1 }));
  try {
    for (let attempt = 0; attempt < stateAttemptsMax; attempt++) {
      const infos = await Promise.all(clients.map((client) => client.call('CLUSTER', 'INFO')));
      if (infos.every((info) => String(info).includes('cluster_state:ok'))) return;
      await sleep(stateIntervalMs);
    }
    throw new Error(`Redis Cluster not ok after ${stateAttemptsMax} tries of ${stateIntervalMs} ms`);
  } finally {
    clients.forEach((client) => client.disconnect());
  }
}
