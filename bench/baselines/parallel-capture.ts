/**
 * Baseline "parallel": N concurrent streaming downloads straight to files, like `curl --parallel`
 * (each file fsynced and renamed into place, as durable as a stored blob; no hashing, no catalog).
 */
import { createWriteStream } from 'node:fs'
import { rename } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { serveParent } from '../lib/child-runtime.js'
import { createAgent, type DownloadInput, type DownloadOutput, inLanes, openMedia } from './download-client.js'

const agent = createAgent()

async function parallel(input: DownloadInput): Promise<DownloadOutput> {
  return inLanes(input, async (job) => {
    const res = await openMedia(agent, job, input.token)
    const final = path.join(input.dir, job.name)
    let bytes = 0
    res.body.on('data', (chunk: Buffer) => (bytes += chunk.length))
    // `flush`: fsync before close; pipeline resolves after the close.
    await pipeline(res.body, createWriteStream(`${final}.tmp`, { flush: true }))
    await rename(`${final}.tmp`, final)
    return bytes
  })
}

serveParent<Record<string, never>, DownloadInput, DownloadOutput>({
  start: async () => ({}),
  run: parallel,
  stop: () => agent.close(),
})
