// The test infrastructure itself: if these fail, every other integration test is suspect.
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../src/infra/redis-server.js';
import { createTestContext } from '../support/context.js';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('private redis-server', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'io-billing-infra-test-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('answers on its URL and is gone after stop', async () => {
    const server = await startRedisServer({});
    const client = new Redis(server.url);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    await server.stop();
    expect(processAlive(server.pid)).toBe(false);
  });

  it('keeps an acknowledged write across SIGKILL and restart with appendfsync always', async () => {
    const options = { directory, appendOnly: true, appendFsync: 'always' } as const;
    const first = await startRedisServer(options);
    const writer = new Redis(first.url);
    await writer.set('survivor', 'acknowledged');
    writer.disconnect();
    await first.kill('SIGKILL');
    expect(processAlive(first.pid)).toBe(false);

    const second = await startRedisServer({ ...options, port: first.port });
    const reader = new Redis(second.url);
    try {
      expect(await reader.get('survivor')).toBe('acknowledged');
    } finally {
      reader.disconnect();
      await second.stop();
    }
  });

  it('refuses at once to start on a damaged append-only file, naming the repair', async () => {
    const damaged = join(directory, 'damaged');
    const options = { directory: damaged, appendOnly: true, appendFsync: 'always' } as const;
    const first = await startRedisServer(options);
    const writer = new Redis(first.url);
    for (let index = 0; index < 20; index++) await writer.set(`key-${index}`, 'value');
    writer.disconnect();
    await first.stop();
    const incremental = join(damaged, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const bytes = await readFile(incremental);
    // A broken record in the middle: a command's `*` marker overwritten.
    const marker = bytes.indexOf('*3\r\n', Math.floor(bytes.length / 2));
    expect(marker).toBeGreaterThan(0);
    bytes.write('?', marker);
    await writeFile(incremental, bytes);

    const startedAt = Date.now();
    const started = startRedisServer(options);
    await expect(started).rejects.toThrow(/append-only file .* is damaged/);
    await expect(started).rejects.toThrow(`redis-check-aof --fix ${join(damaged, 'appendonlydir', 'appendonly.aof.manifest')}`);
    expect(Date.now() - startedAt, 'no waiting for a server that cannot start').toBeLessThan(5_000);
    // A server that did start by mistake would be stopped with the test run's other children.
    await started.then((server) => server.stop(), () => undefined);
  });

  it('is not taken as ready while it loads a large AOF it then finds damaged near its end', async () => {
    const large = join(directory, 'large');
    const first = await startRedisServer({ directory: large, appendOnly: true, appendFsync: 'no' });
    const writer = new Redis(first.url);
    // Enough commands that loading them takes a while: Redis answers INFO meanwhile.
    for (let batch = 0; batch < 50; batch++) {
      const pipeline = writer.pipeline();
      for (let index = 0; index < 10_000; index++) pipeline.set(`key-${batch}-${index}`, 'value');
      await pipeline.exec();
    }
    writer.disconnect();
    await first.stop();
    const intact = await startRedisServer({ directory: large, appendOnly: true, appendFsync: 'always' });
    const reader = new Redis(intact.url);
    try {
      expect(await reader.dbsize(), 'ready means loaded').toBe(500_000);
    } finally {
      reader.disconnect();
      await intact.stop();
    }

    const incremental = join(large, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const bytes = await readFile(incremental);
    const marker = bytes.indexOf('*3\r\n', bytes.length - 1_000);
    expect(marker).toBeGreaterThan(0);
    bytes.write('?', marker);
    await writeFile(incremental, bytes);

    const started = startRedisServer({ directory: large, appendOnly: true, appendFsync: 'always' });
    await expect(started).rejects.toThrow(/append-only file .* is damaged/);
    await started.then((server) => server.stop(), () => undefined);
  }, 60_000);

  it('stops a redis-server left running on its files before starting its own', async () => {
    const shared = join(directory, 'orphaned');
    const options = { directory: shared, appendOnly: true, appendFsync: 'always' } as const;
    const orphan = await startRedisServer(options);
    const writer = new Redis(orphan.url);
    await writer.set('written-by-the-orphan', 'acknowledged');
    writer.disconnect();

    const successor = await startRedisServer(options);
    const reader = new Redis(successor.url);
    try {
      expect(processAlive(orphan.pid), 'the orphan was stopped').toBe(false);
      expect(await reader.get('written-by-the-orphan')).toBe('acknowledged');
    } finally {
      reader.disconnect();
      await successor.stop();
    }
  });
});

describe('test context', () => {
  it('creates its schema, and cleanup drops it and deletes only its own keys', async () => {
    const context = await createTestContext('infra context');
    const neighbour = await createTestContext('infra neighbour');
    try {
      expect(context.keyPrefix).toMatch(/^t-infra-context-[0-9a-f]{8}:$/);
      expect(context.schema).toMatch(/^t_infra_context_[0-9a-f]{8}$/);
      // Unqualified: proves the pool's search_path points at the context's schema.
      await context.pool.query('CREATE TABLE probe (id integer PRIMARY KEY)');
      await context.pool.query('INSERT INTO probe VALUES (1)');
      expect(await tableSchema(neighbour.pool, 'probe')).toBe(context.schema);

      // More keys than one UNLINK batch, to exercise the batching.
      const keys = Array.from({ length: 1_200 }, (_, index) => `${context.keyPrefix}{p1}:${index}`);
      await context.redis.mset(...keys.flatMap((key) => [key, '1']));
      await neighbour.redis.set(`${neighbour.keyPrefix}kept`, '1');

      await context.cleanup();

      expect(await schemaExists(neighbour.pool, context.schema)).toBe(false);
      expect(await neighbour.redis.exists(keys[0]!, keys[keys.length - 1]!)).toBe(0);
      expect(await neighbour.redis.get(`${neighbour.keyPrefix}kept`)).toBe('1');
    } finally {
      await neighbour.cleanup();
    }
  });
});

describe('Redis Cluster', () => {
  let cluster: RedisClusterHandle;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs a script over two keys that share the hash tag {p1}', async () => {
    const client = new Cluster(cluster.nodes);
    const script = `
      redis.call('SET', KEYS[1], ARGV[1])
      redis.call('INCRBY', KEYS[2], ARGV[1])
      return redis.call('MGET', KEYS[1], KEYS[2])`;
    try {
      const result = await client.eval(script, 2, 'io:{p1}:balance', 'io:{p1}:held', '5');
      expect(result).toEqual(['5', '5']);
      const slots = await client.cluster('SLOTS');
      expect(slots.length).toBe(3);
    } finally {
      client.disconnect();
    }
  });
});

async function tableSchema(pool: pg.Pool, table: string): Promise<string | undefined> {
  const result = await pool.query<{ table_schema: string }>(
    'SELECT table_schema FROM information_schema.tables WHERE table_name = $1',
    [table],
  );
  return result.rows[0]?.table_schema;
}

async function schemaExists(pool: pg.Pool, schema: string): Promise<boolean> {
  const result = await pool.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
  return result.rowCount === 1;
}
