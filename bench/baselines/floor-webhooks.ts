/**
 * The webhook side the floors share (floor-capture.ts, floor-intake.ts): a node:http server for
 * the gateway's webhook path, and a signed body turned into the gateway's rows the way its intake
 * does it (signature over the raw bytes, JSON.parse, its parser, its arrival rules and row
 * mapping), each step metered on its own when FLOOR_METER=1.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { MediaTable, WebhooksTable } from '../../src/catalog/schema.js'
import { newMediaToRow } from '../../src/catalog/row-mapping.js'
import { sqlDialect } from '../../src/catalog/sql-dialect.js'
import { onArrival } from '../../src/intake/arrival-rules.js'
import { newMediaId, newWebhookId } from '../../src/media/ids.js'
import { verifySignature } from '../../src/platforms/signature.js'
import { parseWebhook } from '../../src/platforms/webhook/parse-webhook.js'
import { metered } from './floor-meter.js'

export interface ParsedWebhook {
  webhook: WebhooksTable
  rows: MediaTable[]
}

const dialect = sqlDialect('sqlite')
const NO_NUMBERS: ReadonlySet<string> = new Set()

/**
 * The webhook row and its media rows, `undefined` when the signature does not match, `null` for
 * an object the gateway does not handle (it acknowledges those and records nothing).
 */
export function parseSignedWebhook(body: Buffer, signature: string | undefined, secrets: readonly string[]): ParsedWebhook | null | undefined {
  if (!metered('signature', () => verifySignature(body, signature, secrets))) return undefined
  const payload: unknown = metered('JSON.parse', () => JSON.parse(body.toString('utf8')))
  return webhookRows(body, payload, new Date())
}

/** The rows of a body already checked and parsed: what a builder reading a log of bodies does with each. */
export function webhookRows(body: Buffer, payload: unknown, receivedAt: Date): ParsedWebhook | null {
  const now = receivedAt.getTime()
  const parsed = metered('parseWebhook', () => parseWebhook(payload, { receivedAt }))
  if (!parsed.supported) return null
  const webhookId = newWebhookId(now)
  const bodySha256 = metered('body sha256', () => createHash('sha256').update(body).digest('hex'))
  const webhook = { id: webhookId, body_sha256: bodySha256, object: parsed.object, received_at: now, size: body.length, body }
  const rows = metered('row mapping', () => parsed.media.map((m) => newMediaToRow(onArrival(m, [], NO_NUMBERS, receivedAt), { id: newMediaId(now), webhookId, receivedAt, now }, dialect)))
  return { webhook, rows }
}

/** A server for POST /webhooks/meta (bench/lib/gateway-client.ts posts there) that hands each whole body to `receive`; `receive` answers. */
export function webhookServer(name: string, receive: (body: Buffer, signature: string | undefined, res: ServerResponse) => unknown): Server {
  return createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/webhooks/meta') return answerEmpty(res, 404)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const signature = req.headers['x-hub-signature-256']
      const failed = (err: unknown) => {
        process.stderr.write(`${name}: webhook: ${(err as Error).stack}\n`)
        answerEmpty(res, 500)
      }
      try {
        const received = receive(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), typeof signature === 'string' ? signature : undefined, res)
        if (received instanceof Promise) received.catch(failed)
      } catch (err) {
        failed(err)
      }
    })
  })
}

export function answerEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': 0 }).end()
}

/** An INSERT of `columns` that skips a row whose `conflict` key is there already. */
export function insertSql(table: string, columns: readonly string[], conflict: string): string {
  return `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')}) on conflict (${conflict}) do nothing`
}

export const WEBHOOK_COLUMNS = ['id', 'body_sha256', 'object', 'received_at', 'size', 'body'] as const satisfies readonly (keyof WebhooksTable)[]
