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

  async repairDue(): Promise<number> {
    const { rows } = await this.pool.query<{ kind: ProjectedKind; id: string; mark: string }>(
      'SELECT kind, id, mark FROM pending_projections ORDER BY mark LIMIT $1', [this.batchMax]);
    for (const marked of rows) {
      await inTransaction(this.pool, async (client) => {
        await this.reprojectors[marked.kind](client, marked.id);
        await client.query('DELETE FROM pending_projections WHERE kind = $1 AND id = $2 AND mark = $3', [marked.kind, marked.id, marked.mark]);
      });
    }
    return rows.length;
  }
}
