/**
 * The floor's catalog: the gateway's SQLite schema (its own migrations, run once at open, triggers
 * and indexes included) written with raw better-sqlite3 statements on the event loop, under the
 * gateway's pragmas (WAL, synchronous FULL: a COMMIT returns once the WAL is fsynced). Writes are
 * group commits: whatever was submitted during one event-loop turn (webhooks to record, blob keys
 * to lease, media to settle) commits together in one BEGIN IMMEDIATE … COMMIT, and every
 * submitter resolves after it.
 */
import BetterSqlite3 from 'better-sqlite3'
import type { MediaTable, WebhooksTable } from '../../src/catalog/schema.js'
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js'
import { metered } from './floor-meter.js'
import { insertSql, WEBHOOK_COLUMNS } from './floor-webhooks.js'

export interface Recording {
  webhook: WebhooksTable
  rows: MediaTable[]
  /** The claim: these rows are leased to `owner` until `leaseUntil` in the same transaction. */
  owner: string
  leaseUntil: number
}

export interface Lease {
  id: string
  owner: string
  blobKey: string
}

export interface Stored {
  id: string
  owner: string
  sha256: string
  size: number
  blobKey: string
  sniffedMime: string | null
  mimeType: string | null
}

/** Per kind, the items written and the transactions they were in, since the last `takeCounts()`. */
export type CommitCounts = Record<string, { commits: number; items: number }>

/**
 * FLOOR_COMMIT_MS: gather writes for this long before committing (default 0: the end of the
 * event-loop turn), to see what larger groups would save at the cost of that much latency.
 */
const COMMIT_MS = Number(process.env.FLOOR_COMMIT_MS ?? 0)

/**
 * One write transaction per event-loop turn for everything submitted during it, whatever its kind
 * (records, blob leases, settlements): one COMMIT, so one WAL fsync, for all of them.
 */
class TurnWriter {
  private queue: { kind: string; work: () => unknown; resolve: (r: unknown) => void; reject: (e: unknown) => void }[] = []
  private counts: CommitCounts = {}
  private commits = 0

  constructor(private readonly db: BetterSqlite3.Database) {}

  submit<R>(kind: string, work: () => R): Promise<R> {
    if (this.queue.length === 0) {
      if (COMMIT_MS > 0) setTimeout(() => this.flush(), COMMIT_MS)
      else setImmediate(() => this.flush())
    }
    return new Promise<R>((resolve, reject) => this.queue.push({ kind, work, resolve: resolve as (r: unknown) => void, reject }))
  }

  private flush(): void {
    const batch = this.queue
    this.queue = []
    this.commits++
    const results: unknown[] = []
    try {
      metered('sqlite: begin', () => this.db.exec('BEGIN IMMEDIATE'))
      try {
        for (const item of batch) results.push(metered(`sqlite: ${item.kind}`, item.work))
      } catch (err) {
        this.db.exec('ROLLBACK')
        throw err
      }
      // synchronous = FULL: the WAL is fsynced before this returns (SQLite's autocheckpoint too, when due).
      metered('sqlite: commit', () => this.db.exec('COMMIT'))
    } catch (err) {
      for (const b of batch) b.reject(err)
      return
    }
    batch.forEach((b, i) => {
      const c = (this.counts[b.kind] ??= { commits: 0, items: 0 })
      c.items++
      b.resolve(results[i])
    })
    for (const kind of new Set(batch.map((b) => b.kind))) this.counts[kind]!.commits++
  }

  /** Items per kind and the transactions they were in, since the last call; `all` counts transactions. */
  take(): CommitCounts {
    const out = { ...this.counts, all: { commits: this.commits, items: Object.values(this.counts).reduce((n, c) => n + c.items, 0) } }
    this.counts = {}
    this.commits = 0
    return out
  }
}

export class FloorCatalog {
  private readonly db: BetterSqlite3.Database
  private readonly writer: TurnWriter
  private readonly statements: ReturnType<typeof prepare>

  /** Creates the file with the gateway's schema (its migration runner), then reopens it raw. */
  static async create(file: string): Promise<FloorCatalog> {
    const migrated = new SqliteCatalog({ path: file })
    await migrated.migrate()
    await migrated.close()
    return new FloorCatalog(file)
  }

  private constructor(file: string) {
    this.db = new BetterSqlite3(file)
    // As sqlite-catalog.ts sets them for the gateway's writer, whose WAL threshold is raised to
    // 10,000 pages because its checkpointer thread copies the WAL every 250 ms. Here SQLite's own
    // checkpoint at that threshold runs inside the commit that crosses it (and is counted there):
    // at 1,000 pages, its default, checkpoints copied the hot index pages ten times as often.
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma('temp_store = MEMORY')
    this.db.pragma('foreign_keys = ON')
    this.db.pragma('wal_autocheckpoint = 10000')
    this.statements = prepare(this.db)
    this.writer = new TurnWriter(this.db)
  }

  /** Records the webhook and its media and claims the new ones; resolves with those, once durable. */
  record({ webhook, rows, owner, leaseUntil }: Recording): Promise<MediaTable[]> {
    const s = this.statements
    return this.writer.submit('record+claim', () => {
      // A redelivered body is stored once; its media then point at the first copy.
      const webhookId = s.insertWebhook.run(...WEBHOOK_COLUMNS.map((c) => webhook[c])).changes > 0 ? webhook.id : (s.webhookBySha.get(webhook.body_sha256) as string)
      const created: MediaTable[] = []
      for (const row of rows) {
        row.webhook_id = webhookId
        if (s.insertMedia(row).changes === 0) continue
        s.claim.run(owner, leaseUntil, webhook.received_at, row.id)
        created.push(row)
      }
      return created
    })
  }

  /** Leases the blob key on the claimed record before its bytes are put in place (false: refused). */
  lease(l: Lease): Promise<boolean> {
    const s = this.statements
    return this.writer.submit('blob lease', () => {
      const now = Date.now()
      return s.deleting.get(l.blobKey, now) === undefined && s.lease.run(l.blobKey, l.id, l.owner, now).changes > 0
    })
  }

  /** Settles the record stored (false: the lease was lost). */
  settle(r: Stored): Promise<boolean> {
    const s = this.statements
    return this.writer.submit('settle', () => {
      const now = Date.now()
      return s.settle.run(r.sha256, r.size, r.blobKey, r.sniffedMime, r.mimeType, now, now, r.id, r.owner).changes > 0
    })
  }

  takeCounts(): CommitCounts {
    return this.writer.take()
  }

  close(): void {
    this.db.close()
  }
}

function prepare(db: BetterSqlite3.Database) {
  let insertMedia: BetterSqlite3.Statement | undefined
  return {
    insertWebhook: db.prepare(insertSql('webhooks', WEBHOOK_COLUMNS, 'body_sha256')),
    webhookBySha: db.prepare('select id from webhooks where body_sha256 = ?').pluck(),
    /** Every column newMediaToRow sets, in its order (prepared on the first row). */
    insertMedia(row: MediaTable) {
      const columns = Object.keys(row) as (keyof MediaTable)[]
      insertMedia ??= db.prepare(insertSql('media', columns, 'platform, message_id, attachment_index'))
      return insertMedia.run(...columns.map((c) => row[c]))
    },
    claim: db.prepare(`update media set attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?, updated_at = ? where id = ? and status = 'pending'`),
    // As blob-plans.ts leases a key: refused while a deletion claims it, held on our own live lease.
    deleting: db.prepare('select 1 from blob_deletions where blob_key = ? and expires_at > ?').pluck(),
    lease: db.prepare(`update media set blob_lease_key = ? where id = ? and status = 'pending' and lease_owner = ? and lease_expires_at > ?`),
    settle: db.prepare(
      `update media set status = 'stored', sha256 = ?, size = ?, blob_key = ?, sniffed_mime = ?, mime_type = ?, stored_at = ?, next_attempt_at = null,
       error_code = null, error_message = null, error_vendor_code = null, unfinished = 0, lease_owner = null, lease_expires_at = null, updated_at = ?
       where id = ? and lease_owner = ? and status = 'pending'`,
    ),
  }
}
