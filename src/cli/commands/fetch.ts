/**
 * `mediagate fetch <media-id>`: resolve one WhatsApp media id and download it through the
 * transfer pipeline the gateway uses (the proxy destination: hashed, checked against Meta's
 * sha256, nothing stored), streaming to a file (or stdout). The token is the number's own from
 * mediagate.config.json with --phone-number-id, else WHATSAPP_ACCESS_TOKEN.
 */
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Command } from 'commander'
import type { RemoteFacts } from '../../catalog/catalog.js'
import { MediagateError } from '../../errors.js'
import { toClientVerified } from '../../transfer/destinations.js'
import type { MediaSource } from '../../transfer/open-source.js'
import { openSniffed } from '../../transfer/sniffed-source.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { startProgress } from '../progress.js'
import { withParts } from '../with-parts.js'

export function fetchCommand(): Command {
  const command = new Command('fetch')
    .description("resolve and download one WhatsApp media id with its number's token (else WHATSAPP_ACCESS_TOKEN)")
    .argument('<media-id>', 'the WhatsApp media id')
    .option('-o, --output <file>', 'write here instead of stdout')
    .option('--phone-number-id <id>', "the WhatsApp number the media belongs to: its token in mediagate.config.json is used")
  addConfigOptions(command, [...READS.graph, ...READS.download])
  command.action(async (mediaId: string) => {
    const { output, phoneNumberId } = command.opts<{ output?: string; phoneNumberId?: string }>()
    if (phoneNumberId !== undefined && !/^[0-9]{1,32}$/.test(phoneNumberId)) throw new MediagateError('bad_request', `--phone-number-id must be a numeric phone_number_id, got "${phoneNumberId}"`)
    const config = configFromCommand(command)
    await withParts(config, {}, async (parts) => {
      if (!parts.graph.forWhatsApp(phoneNumberId)) {
        throw new MediagateError('invalid_config', `WHATSAPP_ACCESS_TOKEN is not set${phoneNumberId ? ` and mediagate.config.json has no token for number ${phoneNumberId}` : ''}`)
      }
      const signal = new AbortController().signal
      const sniffed = await openSniffed(whatsAppSource(mediaId, phoneNumberId), parts.sources, signal)
      let verified: RemoteFacts | undefined
      const body = toClientVerified(sniffed, {
        maxBytes: config.maxBytes,
        onVerified: async (facts) => {
          verified = facts
        },
      })
      const progress = startProgress(`fetch ${mediaId} (bytes)`, sniffed.length ?? 0)
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          progress.increment(chunk.length)
          done(null, chunk)
        },
      })
      // Bytes land in `.partial` and get the real name only once every one of them was verified.
      const partial = output ? `${output}.partial` : undefined
      await pipeline(body, meter, partial ? createWriteStream(partial) : process.stdout)
        .catch(async (err: unknown) => {
          if (partial) await rm(partial, { force: true })
          throw err
        })
        .finally(() => progress.stop())
      if (partial && output) await rename(partial, output)
      const expected = sniffed.opened.expectedSha256
      process.stderr.write(
        `${mediaId}: ${verified!.size} bytes, ${sniffed.opened.declaredMime ?? verified!.mimeType ?? 'unknown type'}, sha256 ${verified!.sha256}${expected ? ' (verified)' : ''}${output ? ` → ${output}` : ''}\n`,
      )
    })
  })
  return command
}

/** A bare WhatsApp media id as a transfer source: resolved through Graph, no webhook URL to try. */
function whatsAppSource(mediaId: string, phoneNumberId: string | undefined): MediaSource {
  return {
    platform: 'whatsapp',
    accountId: phoneNumberId ?? '',
    sourceMediaId: mediaId,
    sourceUrl: null,
    sourceExpiresAt: null,
    declaredSha256: null,
    declaredSize: null,
    declaredMime: null,
    // Past the first attempt, so the (absent) webhook URL is not tried.
    attempts: 2,
    receivedAt: new Date(),
  }
}
