/**
 * Preloaded into a gateway (`NODE_OPTIONS=--import …/pg-statement-counter.js`, with
 * MEDIAGATE_PG_COUNT_FILE set) by the S3 probe: counts the statements the process sends to
 * PostgreSQL (every pg Client.query, pooled ones included) and writes the count and the
 * statements' first words to `<file>.<thread id>` twice a second, for statements per media.
 */
import { writeFileSync } from 'node:fs'
import { threadId } from 'node:worker_threads'
import pg from 'pg'

const file = process.env.MEDIAGATE_PG_COUNT_FILE
if (file) {
  const counts: Record<string, number> = {}
  let total = 0
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string } | undefined
    const text = typeof q === 'string' ? q : (q?.text ?? '')
    const kind = text.trim().split(/\s+/, 3).join(' ').toLowerCase().slice(0, 40)
    counts[kind] = (counts[kind] ?? 0) + 1
    total++
    return query.apply(this, args)
  } as typeof pg.Client.prototype.query
  setInterval(() => writeFileSync(`${file}.${threadId}`, JSON.stringify({ total, counts })), 500).unref()
}
