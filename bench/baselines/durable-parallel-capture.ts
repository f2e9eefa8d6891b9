/**
 * Baseline "durable parallel": what a careful hand-written downloader does to keep each media as
 * durable as a stored blob, in N lanes: Graph lookup (WhatsApp), stream the body to a temp file,
 * fsync it, rename it into place, fsync the directory (a rename survives a power cut only then).
 * No hashing, no catalog, no intake: the least work a durable store of these media can do.
 */
import { open, rename } from 'node:fs/promises'
import path from 'node:path'
import { serveParent } from '../lib/child-runtime.js'
import { createAgent, type DownloadInput, type DownloadOutput, fsyncDir, inLanes, openMedia } from './download-client.js'

const agent = createAgent()

async function durableParallel(input: DownloadInput): Promise<DownloadOutput> {
  return inLanes(input, async (job) => {
    const res = await openMedia(agent, job, input.token)
    const final = path.join(input.dir, job.name)
    const file = await open(`${final}.tmp`, 'w')
    let bytes = 0
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        // write(2) may be short; FileHandle.write reports how much it took.
        for (let offset = 0; offset < chunk.length; ) offset += (await file.write(chunk, offset, chunk.length - offset)).bytesWritten
        bytes += chunk.length
      }
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(`${final}.tmp`, final)
    await fsyncDir(input.dir)
    return bytes
  })
}

serveParent<Record<string, never>, DownloadInput, DownloadOutput>({
  start: async () => ({}),
  run: durableParallel,
  stop: () => agent.close(),
})
