/**
 * Baseline "floor": the least work per media that keeps the gateway's capture guarantees, in one
 * process with no worker threads, written straight against the libraries the gateway uses:
 * - intake: a signed webhook POSTed over node:http; X-Hub-Signature-256 checked over the raw
 *   bytes, JSON.parse, the gateway's webhook parser; the 200 goes out only after the webhook row
 *   and its media rows are committed (and claimed) in the gateway's own SQLite schema;
 * - capture, 16 at a time like the durable parallel baseline: Graph lookup (WhatsApp) or the CDN
 *   URL, sha256 and size checked against what Graph declared, the type sniffed from the head,
 *   the blob key leased, the bytes written to a temp file, fdatasynced, renamed to their content
 *   address `sha256/ab/cd/<hex>` (the leaf made and its parent fsynced when new), the directory
 *   fsynced; then the record settled `stored` in a group commit.
 * Left out, because no guarantee needs them per media: retries and backoff, deadlines, the job
 * engine, streams, thread hops, logging, metrics. Env: FLOOR_DIR, FLOOR_GRAPH_URL (with its
 * version), FLOOR_TOKEN, FLOOR_APP_SECRET; FLOOR_METER=1 splits the main thread's CPU by part;
 * FLOOR_COMMIT_MS (floor-catalog.ts) and FLOOR_FLAT (below) try designs beside the floor's.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdir, open, rename } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import type { MediaTable } from '../../src/catalog/schema.js'
import { normalizeSha256 } from '../../src/platforms/graph/index.js'
import { chooseServedType, SNIFF_BYTES, sniffMime } from '../../src/transfer/sniff.js'
import { serveParent } from '../lib/child-runtime.js'
import type { DownloadJob } from '../lib/media-set.js'
import { createAgent, fsyncDir, openDeclared } from './download-client.js'
import { FloorCatalog, type CommitCounts } from './floor-catalog.js'
import { meterClock, metered, type PartCpu, takeParts } from './floor-meter.js'
import { answerEmpty, parseSignedWebhook, webhookServer } from './floor-webhooks.js'

export interface FloorInput {
  /** Resolve once this many media (since start) have settled. */
  until: number
}

export interface FloorOutput {
  stored: number
  failed: number
  /** Date.now() when the last media was stored. */
  lastStoredAt: number
  /** Since the previous run: commits per kind, and with FLOOR_METER=1 the main thread's CPU by part. */
  commits: CommitCounts
  parts: Record<string, PartCpu>
  /** Whose CPU `parts` counts (floor-meter.ts). */
  clock: string
}

function env(name: string): string {
  const value = process.env[name]
  if (value === undefined) throw new Error(`floor-capture: ${name} is not set`)
  return value
}
const root = env('FLOOR_DIR')
const graphUrl = env('FLOOR_GRAPH_URL')
const token = env('FLOOR_TOKEN')
const secrets = [env('FLOOR_APP_SECRET')]
const blobRoot = path.join(root, 'blobs')
const tmpDir = path.join(blobRoot, '.tmp')
const owner = `floor-${process.pid}`
const LEASE_MS = 5 * 60_000
const LANES = 16
const MAX_BYTES = 100 * 1024 * 1024
/** FLOOR_FLAT=1: every blob in one directory, as the durable parallel baseline writes, to see what the fan-out costs. */
const FLAT = process.env.FLOOR_FLAT === '1'
const agent = createAgent()
let catalog: FloorCatalog

let stored = 0
let failed = 0
let lastStoredAt = 0
const waiters: { until: number; resolve: () => void }[] = []

function settled(ok: boolean): void {
  if (ok) {
    stored++
    lastStoredAt = Date.now()
  } else failed++
  for (const w of waiters.filter((w) => stored + failed >= w.until)) {
    waiters.splice(waiters.indexOf(w), 1)
    w.resolve()
  }
}

// ---- intake

async function receive(body: Buffer, signature: string | undefined, res: ServerResponse): Promise<void> {
  const parsed = parseSignedWebhook(body, signature, secrets)
  if (parsed === undefined) return answerEmpty(res, 401)
  if (parsed === null) return answerEmpty(res, 200)
  const created = await catalog.record({ ...parsed, owner, leaseUntil: parsed.webhook.received_at + LEASE_MS })
  answerEmpty(res, 200)
  for (const row of created) if (row.status === 'pending') enqueue(row)
}

// ---- capture, LANES at a time

const queue: MediaTable[] = []
let running = 0

function enqueue(row: MediaTable): void {
  queue.push(row)
  while (running < LANES && queue.length > 0) {
    running++
    void lane()
  }
}

async function lane(): Promise<void> {
  for (let row = queue.shift(); row; row = queue.shift()) {
    try {
      settled(await capture(row))
    } catch (err) {
      process.stderr.write(`floor: ${row.id}: ${(err as Error).stack}\n`)
      settled(false)
    }
  }
  running--
}

async function capture(row: MediaTable): Promise<boolean> {
  const job: DownloadJob =
    row.platform === 'whatsapp' ? { kind: 'whatsapp', lookupUrl: `${graphUrl}/${row.source_media_id}`, name: row.id } : { kind: 'cdn', url: row.source_url!, name: row.id }
  const { res, sha256: declaredSha, size: declaredSize } = await openDeclared(agent, job, token)
  const hash = createHash('sha256')
  const chunks: Buffer[] = []
  let size = 0
  // Held in memory, as the gateway holds a body up to 256 KiB: written once, after it is verified.
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BYTES) throw new Error('too large')
    metered('sha256', () => hash.update(chunk))
    chunks.push(chunk)
  }
  const sha256 = hash.digest('hex')
  const contentLength = res.headers['content-length']
  if (contentLength !== undefined && Number(contentLength) !== size) throw new Error(`${size} bytes, Content-Length ${contentLength}`)
  const expected = normalizeSha256(declaredSha ?? row.declared_sha256 ?? '')
  if (expected && expected !== sha256) throw new Error(`integrity: sha256 ${sha256}, declared ${expected}`)
  const expectedSize = declaredSize ?? row.declared_size
  if (expectedSize != null && expectedSize !== size) throw new Error(`integrity: ${size} bytes, declared ${expectedSize}`)
  const first = chunks[0]
  const sniffed = await sniffMime(first && first.length >= SNIFF_BYTES ? first.subarray(0, SNIFF_BYTES) : Buffer.concat(chunks, Math.min(size, SNIFF_BYTES)))
  const blobKey = blobKeyFor(sha256)
  if (!(await catalog.lease({ id: row.id, owner, blobKey }))) throw new Error('blob lease refused')
  await putBlob(blobKey, chunks, size)
  return catalog.settle({ id: row.id, owner, sha256, size, blobKey, sniffedMime: sniffed, mimeType: chooseServedType(row.declared_mime, sniffed) })
}

// ---- the disk blob store's durable put

async function putBlob(key: string, chunks: Buffer[], size: number): Promise<void> {
  const tmp = path.join(tmpDir, `${randomUUID()}.part`)
  const file = await open(tmp, 'wx', 0o644)
  try {
    const { bytesWritten } = await file.writev(chunks)
    // writev(2) may be short: the rest in plain writes.
    if (bytesWritten < size) {
      const rest = Buffer.concat(chunks).subarray(bytesWritten)
      for (let offset = 0; offset < rest.length; ) offset += (await file.write(rest, offset, rest.length - offset)).bytesWritten
    }
    await file.datasync()
  } finally {
    await file.close()
  }
  const target = FLAT ? path.join(blobRoot, path.basename(key)) : path.join(blobRoot, key)
  const leaf = path.dirname(target)
  await durableDir(leaf)
  await rename(tmp, target)
  await fsyncDir(leaf)
}

/** Directories known durable (made here and their parent fsynced, or found there), shared by concurrent puts. */
const dirs = new Map<string, Promise<void>>([[blobRoot, Promise.resolve()]])

function durableDir(dir: string): Promise<void> {
  let made = dirs.get(dir)
  if (!made) {
    made = (async () => {
      const parent = path.dirname(dir)
      await durableDir(parent)
      try {
        await mkdir(dir)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      // Even when found: another process may have made it and not yet synced its parent.
      await fsyncDir(parent)
    })()
    dirs.set(dir, made)
  }
  return made
}

// ---- the child

const server = webhookServer('floor', receive)

serveParent<{ url: string }, FloorInput, FloorOutput>({
  async start() {
    await mkdir(tmpDir, { recursive: true })
    catalog = await FloorCatalog.create(path.join(root, 'catalog.db'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
  },
  async run({ until }) {
    if (stored + failed < until) await new Promise<void>((resolve) => waiters.push({ until, resolve }))
    return { stored, failed, lastStoredAt, commits: catalog.takeCounts(), parts: takeParts(), clock: meterClock }
  },
  async stop() {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await agent.close()
    catalog.close()
  },
})
