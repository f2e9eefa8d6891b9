/**
 * `mediagate fetch <media-id>`: resolve one WhatsApp media id with the configured token and
 * download it, streaming to a file (or stdout) and checking Meta's sha256 on the way.
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Command } from 'commander'
import { MediagateError } from '../../errors.js'
import { Fetcher } from '../../fetch/index.js'
import { GraphMediaClient, normalizeSha256 } from '../../platforms/graph/index.js'
import { USER_AGENT } from '../../version.js'
import { addConfigOptions, configFromCommand } from '../config-flags.js'
import { startProgress } from '../progress.js'

export function fetchCommand(): Command {
  const command = new Command('fetch')
    .description('resolve and download one WhatsApp media id with WHATSAPP_ACCESS_TOKEN')
    .argument('<media-id>', 'the WhatsApp media id')
    .option('-o, --output <file>', 'write here instead of stdout')
  addConfigOptions(command)
  command.action(async (mediaId: string) => {
    const { output } = command.opts<{ output?: string }>()
    const config = configFromCommand(command)
    if (!config.accessToken) throw new MediagateError('invalid_config', 'WHATSAPP_ACCESS_TOKEN is not set')
    const fetcher = new Fetcher({ allowedHosts: config.allowedHosts, userAgent: USER_AGENT })
    try {
      const graph = new GraphMediaClient({ graphUrl: config.graphUrl, version: config.graphVersion, accessToken: config.accessToken, fetcher })
      const info = await graph.lookup(mediaId)
      const response = await graph.download(info.url, { maxBytes: config.maxBytes })
      const hash = createHash('sha256')
      let size = 0
      const progress = startProgress(`fetch ${mediaId} (bytes)`, info.fileSize ?? response.contentLength ?? 0)
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk)
          size += chunk.length
          progress.increment(chunk.length)
          done(null, chunk)
        },
      })
      const partial = output ? `${output}.partial` : undefined
      await pipeline(response.body, meter, partial ? createWriteStream(partial) : process.stdout)
        .catch(async (err: unknown) => {
          if (partial) await rm(partial, { force: true })
          throw err
        })
        .finally(() => progress.stop())
      const sha256 = hash.digest('hex')
      const expected = normalizeSha256(info.sha256 ?? '')
      if (expected && expected !== sha256) {
        if (partial) await rm(partial, { force: true })
        throw new MediagateError('integrity', `sha256 ${sha256} does not match Meta's ${expected}`)
      }
      if (partial && output) await rename(partial, output)
      process.stderr.write(`${mediaId}: ${size} bytes, ${info.mimeType}, sha256 ${sha256}${expected ? ' (verified)' : ''}${output ? ` → ${output}` : ''}\n`)
    } finally {
      await fetcher.close()
    }
  })
  return command
}
