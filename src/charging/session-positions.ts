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

  position(sessionId: string, ratingGroup: string): SessionPosition {
    return this.sessions.get(sessionId)?.get(ratingGroup) ?? NEW_POSITION;
  }

  periodUnits(counter: string): bigint {
    return this.counters.get(counter) ?? 0n;
  }

  /**
   * `seen` is the script's list of rating group, units, micros, reported at and tier counter,
   * five entries per rating group; `counterOf` names a rating group's tier counter ('' for none).
   */
  remember(sessionId: string, seen: readonly (string | number)[], counterOf: (ratingGroup: string) => string): void {
    let positions = this.sessions.get(sessionId);
    if (positions === undefined) {
      positions = new Map();
      this.sessions.set(sessionId, positions);
    }
    for (let index = 0; index + 4 < seen.length; index += 5) {
      const ratingGroup = String(seen[index]);
      positions.set(ratingGroup, { units: BigInt(seen[index + 1]!), ratedMicros: BigInt(seen[index + 2]!), reportedAtMs: Number(seen[index + 3]) });
      const counter = counterOf(ratingGroup);
      if (counter !== '') this.counters.set(counter, BigInt(seen[index + 4]!));
    }
  }

  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
  }
}
