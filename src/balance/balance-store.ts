// The only code that calls the Lua scripts: routes each call to its partition and decodes the
// reply. It knows keys and scripts, nothing of rating or transports.
import type { Cluster, Redis } from 'ioredis';
import { ScriptStatus } from './codes.js';
import type { KeySpace } from './keys.js';
import { defineScripts, type ScriptCaller } from './scripts.js';

export interface ScriptReply {
  status: ScriptStatus;
  /** The answer JSON for OK and REPLAY, the missing price for NEED. */
  payload: string | undefined;
  /** Reserve and commit, OK: each rated item's position after the call (session.lua positionsSeen). */
  positions?: (string | number)[];
}

export type SessionOperation = 'reserve' | 'commit' | 'release';

/** A wallet and its buckets as balance.lua reads them; numbers are integer strings. */
export interface StoredBalance {
  bal: string;
  held: string;
  credit: string;
  cur: string;
  a: StoredAllowance[] | Record<string, never>;
}

export interface StoredAllowance {
  id: string;
  rg: string;
  total: string;
  used: string;
  held: string;
  from: string;
  until: string;
  device: string;
  priority: string;
}

export class BalanceStore {
  private readonly callScript: ScriptCaller;

  constructor(
    readonly redis: Redis | Cluster,
    readonly keys: KeySpace,
  ) {
    this.callScript = defineScripts(redis);
  }

  session(operation: SessionOperation, customerId: string, call: object): Promise<ScriptReply> {
    return this.run(operation, customerId, call);
  }

  charge(customerId: string, call: object): Promise<ScriptReply> {
    return this.run('charge', customerId, call);
  }

  topUp(customerId: string, call: object): Promise<ScriptReply> {
    return this.run('top-up', customerId, call);
  }

  /** Releases due reservations of one partition; returns how many index entries it handled. */
  async expire(partition: number, nowMs: number, limit: number, sessionTtlSeconds: number): Promise<number> {
    const handled = await this.callScript(
      'expire', this.keys.stream(partition), this.keys.partitionPrefix(partition),
      String(nowMs), String(limit), String(sessionTtlSeconds),
    );
    return Number(handled);
  }

  /** Units paid with money that place a rating group's tiers now (see KeySpace.tierCounter). */
  async tierUnits(customerId: string, counter: string): Promise<bigint> {
    return BigInt((await this.redis.get(this.keys.tierCounter(customerId, counter))) ?? '0');
  }

  /** The wallet and the pool's buckets, with the device's own when a device is named. */
  async readBalance(customerId: string, deviceId?: string): Promise<StoredBalance | undefined> {
    const reply = await this.callScript('balance', this.keys.wallet(customerId), this.keys.customerPrefix(customerId), customerId, deviceId ?? '');
    return reply === null ? undefined : (JSON.parse(String(reply)) as StoredBalance);
  }

  private async run(name: 'reserve' | 'commit' | 'release' | 'charge' | 'top-up', customerId: string, call: object): Promise<ScriptReply> {
    const partition = this.keys.partitionOf(customerId);
    const reply = (await this.callScript(name, this.keys.stream(partition), this.keys.partitionPrefix(partition), JSON.stringify(call))) as [string, string?, (string | number)[]?];
    return { status: reply[0] as ScriptStatus, payload: reply[1], ...(reply[2] === undefined ? {} : { positions: reply[2] }) };
  }
}
