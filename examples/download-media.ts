// A script: resolve one WhatsApp media id and stream its bytes to a file, checking Meta's sha256.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Fetcher, GraphMediaClient, normalizeSha256 } from '../src/index.js'

export async function downloadMedia(mediaId: string, file: string, o: { accessToken: string; graphUrl?: string; allowedHosts?: string[] }): Promise<{ sha256: string; size: number }> {
  const fetcher = new Fetcher({ allowedHosts: o.allowedHosts ?? ['fbcdn.net', 'whatsapp.net', 'facebook.com'], userAgent: 'my-script/1.0' })
  const graph = new GraphMediaClient({ graphUrl: o.graphUrl ?? 'https://graph.facebook.com', version: 'v26.0', accessToken: o.accessToken, fetcher })
  try {
    const info = await graph.lookup(mediaId)
    const response = await graph.download(info.url)
    const hash = createHash('sha256')
    let size = 0
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk)
        size += chunk.length
        done(null, chunk)
      },
    })
    await pipeline(response.body, count, createWriteStream(file))
    const sha256 = hash.digest('hex')
    if (info.sha256 && normalizeSha256(info.sha256) !== sha256) throw new Error(`sha256 mismatch for ${mediaId}`)
    return { sha256, size }
  } finally {
    await fetcher.close()
  }
}
