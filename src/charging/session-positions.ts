// What this process last saw of each session's positions and of each tier counter, so that it
// can quote the next call of a session without first being asked (a NEED). A guess only: the
// script checks every quote against the positions it holds, so a stale or missing entry costs
// one more call, never a wrong price.
import { LRUCache } from 'lru-cache';
import { NEW_POSITION, type SessionPosition } from './pricing.js';

type Seen = Record<string, [units: string, micros: string, reportedAt: string, periodUnits: string]>;

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

  /** `counterOf` names each rating group's tier counter ('' for none). */
  remember(sessionId: string, seenJson: string, counterOf: (ratingGroup: string) => string): void {
    const seen = JSON.parse(seenJson) as Seen | [];
    let positions = this.sessions.get(sessionId);
    if (positions === undefined) {
      positions = new Map();
      this.sessions.set(sessionId, positions);
    }
    for (const [ratingGroup, [units, micros, reportedAt, periodUnits]] of Object.entries(seen)) {
      positions.set(ratingGroup, { units: BigInt(units), ratedMicros: BigInt(micros), reportedAtMs: Number(reportedAt) });
      const counter = counterOf(ratingGroup);
      if (counter !== '') this.counters.set(counter, BigInt(periodUnits));
    }
  }

  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
  }
}
