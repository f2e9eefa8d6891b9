/**
 * PostgreSQL: a capture group's blob leases in one round trip (issue 19). The lease transaction
 * was BEGIN, the keys' advisory locks, the deletion claims' SELECT, the UPDATE and COMMIT: five
 * round trips per group, each waking a backend on cores the S3 server shares. Called on its own
 * (autocommit), this function is that transaction: its advisory locks are released when the
 * statement commits, and being VOLATILE, each statement in it takes a fresh snapshot, so the
 * claims it reads after the locks are those the locks' previous holders committed — as the
 * separate statements read them (blob-plans.ts has the protocol with the eraser).
 *
 * Answers one row per lease: `deleting` (a live deletion claim holds the key), `leased`, `busy`
 * (the record is still this capture's but another transaction holds its row: try again) or
 * `lost`. The leases are `[{ id, owner, blob_key }]` on distinct pending records; `lock_ids` are
 * the keys' advisory lock ids, in the one order every locker takes them (blob-plans.ts, lockIds).
 * SQLite needs nothing: its transactions hold the write lock.
 */
import { sql } from 'kysely'
import type { Migration } from './index.js'

/**
 * One lease at a time, each statement on the primary key: the per-row statements of
 * leasePendingPlan (blob-plans.ts), a row another transaction holds skipped, not waited for. A
 * join of the whole group with `media` was planned as a hash join over every pending record
 * (EXPLAIN: all 220 pending rows read to lease one), costlier than the statements it replaced.
 */
const CREATE = sql`create function mediagate_lease_blobs(lock_ids bigint[], leases json, now_ms bigint)
returns table (media_id text, answer text) language plpgsql volatile as $$
declare
  lock_id bigint;
  deleting text[];
  lease record;
begin
  foreach lock_id in array lock_ids loop
    perform pg_advisory_xact_lock(lock_id);
  end loop;
  select coalesce(array_agg(d.blob_key), '{}') into deleting from blob_deletions as d
    where d.blob_key = any(array(select l.blob_key from json_to_recordset(leases) as l(blob_key text))) and d.expires_at > now_ms;
  for lease in select l.id, l.owner, l.blob_key from json_to_recordset(leases) as l(id text, owner text, blob_key text) loop
    media_id := lease.id;
    if lease.blob_key = any(deleting) then
      answer := 'deleting';
    else
      update media set blob_lease_key = lease.blob_key where id = (
        select r.id from media as r
        where r.id = lease.id and r.status = 'pending' and r.lease_owner = lease.owner and r.lease_expires_at > now_ms
        for update skip locked);
      if found then
        answer := 'leased';
      elsif exists (select 1 from media as r where r.id = lease.id and r.status = 'pending' and r.lease_owner = lease.owner and r.lease_expires_at > now_ms) then
        answer := 'busy';
      else
        answer := 'lost';
      end if;
    end if;
    return next;
  end loop;
end $$`

export const leaseBlobsFunction: Migration = {
  version: 15,
  name: 'lease_blobs_function',
  up({ name, qb }) {
    return name === 'postgres' ? [CREATE.compile(qb)] : []
  },
  down({ name, qb }) {
    return name === 'postgres' ? [sql`drop function mediagate_lease_blobs(bigint[], json, bigint)`.compile(qb)] : []
  },
}
