/**
 * Baseline "naive": one media at a time — look up, download the whole body into memory, write
 * it to a file (fsynced, then renamed into place, so its bytes are as durable as a stored blob).
 */
import { serveParent } from '../lib/child-runtime.js'
import { createAgent, type DownloadInput, type DownloadOutput, inLanes, openMedia } from './download-client.js'
import { durableWrite } from './file-creation.js'

const agent = createAgent()

async function naive(input: DownloadInput): Promise<DownloadOutput> {
  return inLanes({ ...input, concurrency: 1 }, async (job) => {
    const res = await openMedia(agent, job, input.token)
    const bytes = Buffer.from(await res.body.arrayBuffer())
    await durableWrite(input.dir, job.name, bytes, false)
    return bytes.length
  })
}

serveParent<Record<string, never>, DownloadInput, DownloadOutput>({
  start: async () => ({}),
  run: naive,
  stop: () => agent.close(),
})
