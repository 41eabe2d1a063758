// What this process last saw of each session's positions and of each tier counter, so that it
// can quote the next call of a session without first being asked (a NEED). A guess only: the
// script checks every quote against the positions it holds, so a stale or missing entry costs
// one more call, never a wrong price.
import { LRUCache } from 'lru-cache';
import { NEW_POSITION, type SessionPosition } from './pricing.js';

export class SessionPositions {
  private readonly sessions: LRUCache<string, Map<string, SessionPosition>>;
  private readonly counters: LRUCache<string, bigint>;

  constructor(entriesMax: number) {
    this.sessions = new LRUCache({ max: Math.max(1, entriesMax) });
    this.counters = new LRUCache({ max: Math.max(1, entriesMax) });
  }

  /** Sessions are a device's own (see KeySpace.session), so they are remembered by both ids. */
  position(deviceId: string, sessionId: string, ratingGroup: string): SessionPosition {
    return this.sessions.get(sessionName(deviceId, sessionId))?.get(ratingGroup) ?? NEW_POSITION;
  }

  periodUnits(counter: string): bigint {
    return this.counters.get(counter) ?? 0n;
  }

  /**
   * `seen` is the script's list of rating group, units, micros, reported at and tier counter,
   * five entries per rating group; `counterOf` names a rating group's tier counter ('' for none).
   */
  remember(deviceId: string, sessionId: string, seen: readonly (string | number)[], counterOf: (ratingGroup: string) => string): void {
    const name = sessionName(deviceId, sessionId);
    let positions = this.sessions.get(name);
    if (positions === undefined) {
      positions = new Map();
      this.sessions.set(name, positions);
    }
    for (let index = 0; index + 4 < seen.length; index += 5) {
      const ratingGroup = String(seen[index]);
      positions.set(ratingGroup, { units: BigInt(seen[index + 1]!), ratedMicros: BigInt(seen[index + 2]!), reportedAtMs: Number(seen[index + 3]) });
      const counter = counterOf(ratingGroup);
      if (counter !== '') this.counters.set(counter, BigInt(seen[index + 4]!));
    }
  }

  forget(deviceId: string, sessionId: string): void {
    this.sessions.delete(sessionName(deviceId, sessionId));
  }
}

/** Ids never contain a space, so no two (device, session) pairs share a name. */
function sessionName(deviceId: string, sessionId: string): string {
  return `${deviceId} ${sessionId}`;
}
