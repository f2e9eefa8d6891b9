/**
 * Media counts by (platform, status) that cost the same at any catalog size (issue 19): the
 * summary (`GET /v1/stats`, `mediagate status`, the `mediagate_media` gauge) used to recount the
 * whole `media` table, linear in the number of records.
 *
 * - `media_count_deltas`: triggers on `media` append +1/−1 rows in the transaction that inserts,
 *   deletes or changes the platform or status of a record. Writers only ever insert here: no row
 *   is updated by every writer, so PostgreSQL writers never queue behind one hot counter.
 * - `media_counts`: the base counts. Every `FOLD_EVERY` deltas the writer that appends the
 *   FOLD_EVERY-th one folds all deltas it can see into the base, in its own transaction (SQLite:
 *   the single writer; PostgreSQL: only under `pg_try_advisory_xact_lock`, so one transaction folds
 *   at a time and the others skip rather than wait). A count is the base plus the deltas (see
 *   counts-plans.ts): at most a few thousand rows to read, whatever the size of `media`.
 * - Three partial indexes bound the rest of the summary: the oldest pending record, what was
 *   stored, and what failed since a moment read only pending, recent, or failed rows.
 *
 * The triggers are created before the backfill: on PostgreSQL creating one locks `media` against
 * writers until this migration commits, so no write falls between the count and the first delta.
 */
import { type RawBuilder, sql } from 'kysely'
import type { Migration } from './index.js'

/** Deltas between two folds (PostgreSQL: between two attempts; a skipped one waits for the next). */
export const FOLD_EVERY = 1000

/**
 * The fold on SQLite, also run by `compactCounts` (counts-plans.ts). `WHERE true` keeps SQLite
 * from reading the upsert's ON as a join constraint.
 */
export const SQLITE_FOLD = [
  sql`insert into media_counts (platform, status, count)
    select platform, status, sum(delta) from media_count_deltas where true group by platform, status
    on conflict (platform, status) do update set count = media_counts.count + excluded.count`,
  sql`delete from media_count_deltas`,
] as const

/** An advisory lock key of its own per catalog: the second half is the deltas table's oid (schemas in one database differ). */
const PG_FOLD = sql`create function media_counts_fold() returns void language plpgsql as $$
begin
  if pg_try_advisory_xact_lock(1835492145, ('media_count_deltas'::regclass::oid::bigint - 2147483648)::int) then
    with moved as (delete from media_count_deltas returning platform, status, delta)
    insert into media_counts as c (platform, status, count)
      select platform, status, sum(delta) from moved group by platform, status
      on conflict (platform, status) do update set count = c.count + excluded.count;
  end if;
end $$`

const PG_TRACK = sql`create function media_counts_track() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into media_count_deltas (platform, status, delta) values (new.platform, new.status, 1);
  elsif tg_op = 'DELETE' then
    insert into media_count_deltas (platform, status, delta) values (old.platform, old.status, -1);
  else
    insert into media_count_deltas (platform, status, delta) values (old.platform, old.status, -1), (new.platform, new.status, 1);
  end if;
  return null;
end $$`

const PG_FOLD_TRIGGER = sql`create function media_counts_fold_trigger() returns trigger language plpgsql as $$
begin
  perform media_counts_fold();
  return null;
end $$`

const CHANGED = sql`old.platform is distinct from new.platform or old.status is distinct from new.status`

function postgresTriggers(): RawBuilder<unknown>[] {
  return [
    // A fold leaves dead rows that a reader's scan still walks until vacuumed: vacuum this small
    // table as soon as a fold's worth is dead, at full speed, not at 20% of its size.
    sql`alter table media_count_deltas set (autovacuum_vacuum_threshold = ${sql.lit(FOLD_EVERY)}, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 0)`,
    PG_FOLD,
    PG_TRACK,
    PG_FOLD_TRIGGER,
    sql`create trigger media_counts_insert after insert on media for each row execute function media_counts_track()`,
    sql`create trigger media_counts_update after update of platform, status on media for each row when (${CHANGED}) execute function media_counts_track()`,
    sql`create trigger media_counts_delete after delete on media for each row execute function media_counts_track()`,
    sql`create trigger media_count_deltas_fold after insert on media_count_deltas for each row when (new.id % ${sql.lit(FOLD_EVERY)} = 0) execute function media_counts_fold_trigger()`,
  ]
}

function sqliteTriggers(): RawBuilder<unknown>[] {
  const add = (row: 'new' | 'old', delta: 1 | -1) => sql`(${sql.raw(row)}.platform, ${sql.raw(row)}.status, ${sql.lit(delta)})`
  return [
    sql`create trigger media_counts_insert after insert on media begin
      insert into media_count_deltas (platform, status, delta) values ${add('new', 1)};
    end`,
    sql`create trigger media_counts_update after update of platform, status on media when ${CHANGED} begin
      insert into media_count_deltas (platform, status, delta) values ${add('old', -1)}, ${add('new', 1)};
    end`,
    sql`create trigger media_counts_delete after delete on media begin
      insert into media_count_deltas (platform, status, delta) values ${add('old', -1)};
    end`,
    sql`create trigger media_count_deltas_fold after insert on media_count_deltas when new.id % ${sql.lit(FOLD_EVERY)} = 0 begin
      ${SQLITE_FOLD[0]};
      ${SQLITE_FOLD[1]};
    end`,
  ]
}

export const mediaCounts: Migration = {
  version: 12,
  name: 'media_counts',
  up(dialect) {
    const { qb } = dialect
    const schema = qb.schema
    const postgres = dialect.name === 'postgres'
    return [
      schema
        .createTable('media_counts')
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('media_counts_pkey', ['platform', 'status'])
        .compile(),
      // Append-only between folds: no index beyond SQLite's rowid (an index would cost every write).
      schema
        .createTable('media_count_deltas')
        .addColumn('id', postgres ? 'bigint' : 'integer', (c) => (postgres ? c.generatedAlwaysAsIdentity() : c.primaryKey()))
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('delta', 'integer', (c) => c.notNull())
        .compile(),
      ...(postgres ? postgresTriggers() : sqliteTriggers()).map((statement) => statement.compile(qb)),
      sql`insert into media_counts (platform, status, count) select platform, status, count(*) from media group by platform, status`.compile(qb),
      // The summary's other figures (summary-plan.ts); partial, so intake writes only the first.
      schema.createIndex('media_pending_received_idx').on('media').column('received_at').where(sql.ref('status'), '=', 'pending').compile(),
      schema.createIndex('media_stored_at_idx').on('media').column('stored_at').where(sql.ref('status'), '=', 'stored').compile(),
      schema.createIndex('media_failed_updated_idx').on('media').columns(['updated_at', 'error_code']).where(sql.ref('status'), '=', 'failed').compile(),
    ]
  },
  down(dialect) {
    const { qb } = dialect
    const schema = qb.schema
    const postgres = dialect.name === 'postgres'
    const triggers = ['media_counts_insert', 'media_counts_update', 'media_counts_delete']
    return [
      schema.dropIndex('media_failed_updated_idx').compile(),
      schema.dropIndex('media_stored_at_idx').compile(),
      schema.dropIndex('media_pending_received_idx').compile(),
      ...triggers.map((name) => (postgres ? sql`drop trigger ${sql.id(name)} on media` : sql`drop trigger ${sql.id(name)}`).compile(qb)),
      // Dropping the table drops its fold trigger.
      schema.dropTable('media_count_deltas').compile(),
      schema.dropTable('media_counts').compile(),
      ...(postgres ? ['media_counts_fold_trigger', 'media_counts_track', 'media_counts_fold'].map((name) => sql`drop function ${sql.id(name)}()`.compile(qb)) : []),
    ]
  },
}
