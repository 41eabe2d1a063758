// Provisioning writes PostgreSQL, the system of record, and projects each change into Redis.
// Both stores end up with the change this way: the row and a mark naming it commit in one
// transaction; the projection runs after the commit and clears the mark; when it fails (Redis
// down, a crash before it ran), the mark stays and the repair projects the row as PostgreSQL
// holds it then, under the row's lock so a newer write cannot be overtaken by an older copy.
// The catalog (plans, subscriptions, granted allowances) uses the same marks.
import type pg from 'pg';
import { inTransaction } from '../db/database.js';

export type ProjectedKind = 'rating-group' | 'tariff' | 'customer' | 'device' | 'allowance' | 'plan' | 'subscriptions';

/**
 * Projects one marked row as PostgreSQL holds it now. It runs in the repair's transaction and
 * first takes the lock the row's writers take, so a newer write waits for it and projects after.
 */
export type Reprojector = (client: pg.PoolClient, id: string) => Promise<void>;

/** In the write's transaction: the row is to be projected. Returns the mark to clear. */
export async function markForProjection(client: pg.PoolClient, kind: ProjectedKind, id: string | number): Promise<string> {
  const { rows } = await client.query<{ mark: string }>(
    `INSERT INTO pending_projections (kind, id) VALUES ($1, $2)
     ON CONFLICT (kind, id) DO UPDATE SET mark = nextval(pg_get_serial_sequence('pending_projections', 'mark')) RETURNING mark`, [kind, String(id)]);
  return rows[0]!.mark;
}

/** After the commit: projects, then clears the mark, unless a newer write marked the row again. */
export async function projectMarked(pool: pg.Pool, kind: ProjectedKind, id: string | number, mark: string, project: () => Promise<void>): Promise<void> {
  await project();
  await pool.query('DELETE FROM pending_projections WHERE kind = $1 AND id = $2 AND mark = $3', [kind, String(id), mark]);
}

/** Projects every row still marked, oldest mark first, a bounded batch per pass. */
export class ProjectionRepair {
  constructor(
    private readonly pool: pg.Pool,
    private readonly reprojectors: Record<ProjectedKind, Reprojector>,
    private readonly batchMax: number,
  ) {}

  /** Returns how many rows it projected; throws after the pass when any could not be, which stay marked. */
  async repairDue(): Promise<number> {
    const { rows } = await this.pool.query<{ kind: ProjectedKind; id: string; mark: string }>(
      'SELECT kind, id, mark FROM pending_projections ORDER BY mark LIMIT $1', [this.batchMax]);
    const failures: unknown[] = [];
    // One row that cannot be projected must not hold up the others behind it.
    for (const marked of rows) await this.repair(marked.kind, marked.id, marked.mark).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw new Error(`${failures.length} of ${rows.length} marked rows could not be projected; they stay marked`, { cause: failures[0] });
    return rows.length;
  }

  private async repair(kind: ProjectedKind, id: string, mark: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await this.reprojectors[kind](client, id);
      await client.query('DELETE FROM pending_projections WHERE kind = $1 AND id = $2 AND mark = $3', [kind, id, mark]);
    });
  }
}
