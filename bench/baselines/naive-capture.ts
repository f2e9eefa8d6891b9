/**
 * Baseline "naive": one media at a time — look up, download the whole body into memory, write
 * it to a file (fsynced, then renamed into place, so its bytes are as durable as a stored blob).
 */
import { open, rename } from 'node:fs/promises'
import path from 'node:path'
import { serveParent } from '../lib/child-runtime.js'
import { createAgent, type DownloadInput, type DownloadOutput, inLanes, openMedia } from './download-client.js'

const agent = createAgent()

async function naive(input: DownloadInput): Promise<DownloadOutput> {
  return inLanes({ ...input, concurrency: 1 }, async (job) => {
    const res = await openMedia(agent, job, input.token)
    const bytes = Buffer.from(await res.body.arrayBuffer())
    const final = path.join(input.dir, job.name)
    const file = await open(`${final}.tmp`, 'w')
    try {
      await file.writeFile(bytes)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(`${final}.tmp`, final)
    return bytes.length
  })
}

serveParent<Record<string, never>, DownloadInput, DownloadOutput>({
  start: async () => ({}),
  run: naive,
  stop: () => agent.close(),
})
