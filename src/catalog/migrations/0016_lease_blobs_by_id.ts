/**
 * PostgreSQL: the lease function of migration 15 finds each record by its primary key alone and
 * checks that it is still this capture's in PL/pgSQL, not in the statement's WHERE.
 *
 * Its statements said `r.id = … and r.status = 'pending' and …`, and PL/pgSQL keeps one generic
 * plan per statement for the connection's life. A plan made while `media` was small and had no
 * statistics (a new catalog, or autovacuum off, so never analysed) guessed one row for every
 * index that matched and took the smallest: a partial index on pending records (status, source
 * expiry), reading every pending record through it to find one by id. With 3,000 pending, the
 * lease was 38% of the backends' CPU on the scale-out path (perf, bench/lib/s3-probe.ts; the
 * plans by auto_explain). Only the primary key serves `r.id = …` alone, whatever the statistics.
 *
 * Same answers, locks and snapshot rules as migration 15 (its header); the row is locked first
 * (SKIP LOCKED), then read: pending, this owner's, lease not expired → `leased`; a row another
 * transaction holds whose last committed version is still this capture's → `busy`; else `lost`.
 */
import { sql } from 'kysely'
import { leaseBlobsFunction } from './0015_lease_blobs_function.js'
import type { Migration } from './index.js'

const CREATE = sql`create or replace function mediagate_lease_blobs(lock_ids bigint[], leases json, now_ms bigint)
returns table (media_id text, answer text) language plpgsql volatile as $$
declare
  lock_id bigint;
  deleting text[];
  lease record;
  cur record;
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
      select r.status, r.lease_owner, r.lease_expires_at into cur from media as r where r.id = lease.id for update skip locked;
      if found then
        if cur.status = 'pending' and cur.lease_owner = lease.owner and cur.lease_expires_at > now_ms then
          update media set blob_lease_key = lease.blob_key where id = lease.id;
          answer := 'leased';
        else
          answer := 'lost';
        end if;
      else
        -- Another transaction holds the row: its last committed version tells whose it is.
        select r.status, r.lease_owner, r.lease_expires_at into cur from media as r where r.id = lease.id;
        if found and cur.status = 'pending' and cur.lease_owner = lease.owner and cur.lease_expires_at > now_ms then
          answer := 'busy';
        else
          answer := 'lost';
        end if;
      end if;
    end if;
    return next;
  end loop;
end $$`

export const leaseBlobsById: Migration = {
  version: 16,
  name: 'lease_blobs_by_id',
  up({ name, qb }) {
    return name === 'postgres' ? [CREATE.compile(qb)] : []
  },
  // Back to migration 15's function, as it created it.
  down(dialect) {
    return dialect.name === 'postgres' ? [sql`drop function mediagate_lease_blobs(bigint[], json, bigint)`.compile(dialect.qb), ...leaseBlobsFunction.up(dialect)] : []
  },
}
