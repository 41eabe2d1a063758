// Moves the online path's events into the journal, exactly once. Each partition's stream is read
// through one consumer group, so several service processes share the work and each entry is
// delivered to one of them. An entry is acknowledged only after the transaction that journals it
// has committed; entries a crashed consumer took and never acknowledged are claimed again once
// idle, and the journal's key skips any that were in fact written. Acknowledged entries are then
// trimmed from the stream, so Redis keeps only what is not journaled yet.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { KeySpace } from '../balance/keys.js';
import { Periodic } from '../infra/periodic.js';
import type { EventData, Journal, StreamEntry } from './journal.js';

export interface LedgerSettings {
  partitionCount: number;
  intervalMs: number;
  /** Entries read per partition per pass. */
  batchMax: number;
  /** An entry taken by a consumer and unacknowledged this long is claimed by another. */
  claimIdleMs: number;
  /** A backlog past this many events is reported through onBacklog after a pass. */
  backlogWarnEvents: number;
}

export interface LedgerBacklog {
  /** Entries not journaled yet: not delivered, or delivered and not acknowledged. */
  events: number;
  /** Age of the oldest of them, in ms (0 when there are none). */
  oldestAgeMs: number;
}

const GROUP = 'ledger';
type RawEntry = [id: string, fields: string[]];

export class LedgerWorker {
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly groupsReady = new Set<number>();
  private readonly periodic: Periodic;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly journal: Journal,
    private readonly settings: LedgerSettings,
    onError: (error: unknown) => void = () => {},
    private readonly onBacklog: (backlog: LedgerBacklog) => void = () => {},
  ) {
    this.periodic = new Periodic(() => this.drainAndWatch(), settings.intervalMs, onError);
  }

  /** One periodic pass: a drain, then, when a full batch was waiting, a look at how far behind it is. */
  async drainAndWatch(): Promise<number> {
    const acknowledged = await this.drainOnce();
    if (acknowledged < this.settings.batchMax) return acknowledged;
    const backlog = await this.backlog(Date.now());
    if (backlog.events > this.settings.backlogWarnEvents) this.onBacklog(backlog);
    return acknowledged;
  }

  /** One pass over every partition; returns how many entries were acknowledged. */
  async drainOnce(): Promise<number> {
    let acknowledged = 0;
    for (let partition = 0; partition < this.settings.partitionCount; partition++) acknowledged += await this.drainPartition(partition);
    return acknowledged;
  }

  /** What is waiting to be journaled, over every partition. */
  async backlog(nowMs: number): Promise<LedgerBacklog> {
    const backlog: LedgerBacklog = { events: 0, oldestAgeMs: 0 };
    for (let partition = 0; partition < this.settings.partitionCount; partition++) {
      const stream = this.keys.stream(partition);
      const oldest = (await this.redis.xrange(stream, '-', '+', 'COUNT', 1))[0];
      if (oldest === undefined) continue;
      backlog.events += await this.redis.xlen(stream);
      backlog.oldestAgeMs = Math.max(backlog.oldestAgeMs, nowMs - Number(oldest[0].split('-')[0]));
    }
    return backlog;
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private async drainPartition(partition: number): Promise<number> {
    const stream = this.keys.stream(partition);
    await this.ensureGroup(partition, stream);
    // Its own unacknowledged entries first (a pass that failed, say while PostgreSQL was away),
    // then those a crashed consumer left, then new ones.
    const read = [...(await this.readOwnPending(stream)), ...(await this.claimAbandoned(stream)), ...(await this.readNew(stream))];
    // Its own entries, once idle long enough, are also among those claimed: each id once.
    const entries = [...new Map(read.map((entry) => [entry[0], entry])).values()];
    if (entries.length === 0) return 0;
    // An entry deleted from the stream after delivery comes back without fields: nothing is
    // left to journal of it, and acknowledging it clears it from the pending list.
    const present = entries.filter((entry) => Array.isArray(entry[1]));
    await this.journal.write(present.map(([id, fields]) => toStreamEntry(partition, id, fields)));
    const ids = entries.map(([id]) => id);
    await this.redis.xack(stream, GROUP, ...ids);
    await this.trim(stream);
    return ids.length;
  }

  /** The group starts at the stream's beginning, so events written before any worker ran are journaled too. */
  private async ensureGroup(partition: number, stream: string): Promise<void> {
    if (this.groupsReady.has(partition)) return;
    try {
      await this.redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    }
    this.groupsReady.add(partition);
  }

  private async claimAbandoned(stream: string): Promise<RawEntry[]> {
    const reply = (await this.redis.xautoclaim(stream, GROUP, this.consumer, this.settings.claimIdleMs, '0-0', 'COUNT', this.settings.batchMax)) as [string, RawEntry[]];
    // Entries deleted meanwhile come back as null fields; there is nothing left to journal of them.
    return reply[1].filter((entry) => Array.isArray(entry[1]));
  }

  private readNew(stream: string): Promise<RawEntry[]> {
    return this.readGroup(stream, '>');
  }

  /** Id 0 reads what was delivered to this consumer and not acknowledged, instead of new entries. */
  private readOwnPending(stream: string): Promise<RawEntry[]> {
    return this.readGroup(stream, '0');
  }

  private async readGroup(stream: string, from: '>' | '0'): Promise<RawEntry[]> {
    const reply = (await this.redis.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', this.settings.batchMax, 'STREAMS', stream, from)) as [string, RawEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /**
   * Drops what the group has acknowledged: entries before both the next to deliver and the oldest
   * still pending. The delivery position is read first: an entry delivered after that read lies
   * beyond it, so no entry a consumer holds unacknowledged can be trimmed.
   */
  private async trim(stream: string): Promise<void> {
    const groups = (await this.redis.xinfo('GROUPS', stream)) as unknown[][];
    const lastDelivered = groups.map(fieldsOf).find((fields) => fields['name'] === GROUP)?.['last-delivered-id'];
    if (typeof lastDelivered !== 'string') return;
    const pending = (await this.redis.xpending(stream, GROUP)) as [number, string | null, ...unknown[]];
    const oldestPending = pending[0] > 0 ? pending[1] : null;
    const keepFrom = oldestPending !== null && compareIds(oldestPending, nextId(lastDelivered)) < 0 ? oldestPending : nextId(lastDelivered);
    await this.redis.xtrim(stream, 'MINID', keepFrom);
  }
}

function toStreamEntry(partition: number, id: string, fields: string[]): StreamEntry {
  const values = fieldsOf(fields);
  const data = JSON.parse(String(values['data'])) as EventData;
  // Lua's cjson writes an empty list as {}: a release that ended a session holding nothing. The
  // journal keeps it as the empty list it is, which its SQL reads element by element.
  if (data.items !== undefined && !Array.isArray(data.items)) data.items = [];
  return { partition, id, type: String(values['type']), data };
}

/** [name, value, name, value, …] → { name: value }. */
function fieldsOf(list: unknown[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let index = 0; index + 1 < list.length; index += 2) fields[String(list[index])] = list[index + 1];
  return fields;
}

/** The smallest stream id after `id`. */
function nextId(id: string): string {
  const [ms, sequence] = id.split('-');
  return `${ms}-${BigInt(sequence ?? '0') + 1n}`;
}

function compareIds(left: string, right: string): number {
  const [leftMs, leftSequence] = left.split('-').map(BigInt) as [bigint, bigint];
  const [rightMs, rightSequence] = right.split('-').map(BigInt) as [bigint, bigint];
  if (leftMs !== rightMs) return leftMs < rightMs ? -1 : 1;
  return leftSequence === rightSequence ? 0 : leftSequence < rightSequence ? -1 : 1;
}
