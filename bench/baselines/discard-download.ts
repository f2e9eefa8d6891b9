/**
 * The emulator's own ceiling: the same requests as the parallel baseline, bodies read and thrown
 * away (no disk), so what limits this figure is the emulator and the loopback, nothing else.
 */
import { serveParent } from '../lib/child-runtime.js'
import { createAgent, type DownloadInput, type DownloadOutput, inLanes, openMedia } from './download-client.js'

const agent = createAgent()

async function discard(input: DownloadInput): Promise<DownloadOutput> {
  return inLanes(input, async (job) => {
    const res = await openMedia(agent, job, input.token)
    let bytes = 0
    for await (const chunk of res.body) bytes += (chunk as Buffer).length
    return bytes
  })
}

serveParent<Record<string, never>, DownloadInput, DownloadOutput>({
  start: async () => ({}),
  run: discard,
  stop: () => agent.close(),
})
