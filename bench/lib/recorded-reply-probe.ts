/**
 * What the SQLite thread's answer to `recordWebhooks` costs across the thread boundary, in
 * optimized code (callgrind's counts are of code V8 has not tiered up yet):
 * `node dist-bench/bench/lib/recorded-reply-probe.js`. A group of 16 one-media webhooks goes
 * through a MessageChannel (serialized on one side, deserialized on the other) as whole records,
 * and as the compact reply the thread sends now plus the records built from it (recorded-reply.ts).
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import type { IncomingWebhook, RecordedWebhook } from '../../src/catalog/catalog.js'
import { type CompactRecorded, compactRecorded, expandRecorded } from '../../src/catalog/recorded-reply.js'
import { newMediaToRow, rowToMedia } from '../../src/catalog/row-mapping.js'
import type { MediaRow } from '../../src/catalog/schema.js'
import { sqlDialect } from '../../src/catalog/sql-dialect.js'
import type { NewMedia } from '../../src/media/record.js'

const GROUP = 16
const ROUNDS = 20_000
const dialect = sqlDialect('sqlite')
const media: NewMedia = {
  platform: 'whatsapp', accountId: '1234', messageId: 'wamid.HBgL', attachmentIndex: 0, senderId: '15551234', direction: 'inbound', kind: 'image', sourceType: 'image',
  sourceMediaId: '998877', sourceUrl: null, sourceExpiresAt: null, declaredMime: 'image/jpeg', declaredSha256: 'c2hhMjU2', declaredSize: null, filename: null, caption: 'bench',
  voice: null, animated: null, sentAt: new Date(), error: null, policy: 'eager',
}
const batch: IncomingWebhook[] = Array.from({ length: GROUP }, (_, i) => ({ object: 'whatsapp_business_account', body: Buffer.alloc(1000), receivedAt: new Date(), media: [{ ...media, messageId: `wamid.HBgL${i}` }] }))
const recorded: RecordedWebhook[] = batch.map((w, i) => {
  const row = newMediaToRow(w.media[0]!, { id: `med_${i}`, webhookId: 'whk_1', receivedAt: w.receivedAt, now: Date.now() }, dialect)
  return { webhookId: 'whk_1', webhookCreated: true, duplicates: 0, created: [rowToMedia(row as MediaRow)] }
})
const compact = compactRecorded(batch, recorded)
const { port1, port2 } = new MessageChannel()
const across = <T>(value: T): T => {
  port1.postMessage({ id: 1, result: value })
  return (receiveMessageOnPort(port2)!.message as { result: T }).result
}
const ways: [string, () => unknown][] = [
  ['whole records', () => across(recorded)],
  ['ids, then records built', () => expandRecorded(batch, across<CompactRecorded[]>(compact))],
]
for (const [name, run] of ways) {
  let ns = 0
  // The last of three rounds: the first ones warm the JIT.
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < ROUNDS; i++) run()
    ns = Number(process.hrtime.bigint() - t) / ROUNDS / GROUP
  }
  process.stdout.write(`${name.padEnd(26)} ${ns.toFixed(0)} ns per webhook (both sides of the boundary)\n`)
}
port1.close()
