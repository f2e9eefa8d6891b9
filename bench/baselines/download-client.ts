/**
 * What the download baselines share: the two requests a hand-written client makes against Meta
 * (WhatsApp: Graph lookup, then the download URL, both with the Bearer token; Messenger: the CDN
 * URL as is), on one undici Agent — the HTTP client the gateway itself uses, minus its guards.
 */
import { open } from 'node:fs/promises'
import { Agent, type Dispatcher } from 'undici'
import { loopbackUrl } from '../lib/loopback.js'
import type { DownloadJob } from '../lib/media-set.js'

/** The input every download baseline runs with. */
export interface DownloadInput {
  jobs: DownloadJob[]
  token: string
  /** Where files go (not used by the discarding client). */
  dir: string
  concurrency: number
  /** Stop starting new jobs after this long: a slow baseline is measured on a prefix. */
  maxMs: number
}

export interface DownloadOutput {
  completed: number
  bytes: number
  elapsedMs: number
  /** CPU the client's process spent over the run, all threads (libuv's pool included), ms. */
  cpuMs: number
}

export function createAgent(): Agent {
  return new Agent({ keepAliveTimeout: 10_000, connections: 256 })
}

async function get(agent: Agent, url: string, token: string | undefined): Promise<Dispatcher.ResponseData> {
  const u = new URL(loopbackUrl(url))
  const res = await agent.request({ origin: u.origin, path: `${u.pathname}${u.search}`, method: 'GET', headers: token ? { authorization: `Bearer ${token}` } : {} })
  if (res.statusCode !== 200) {
    const text = await res.body.text()
    throw new Error(`GET ${u.pathname} answered ${res.statusCode}: ${text.slice(0, 200)}`)
  }
  return res
}

/** An open download and what Graph declared about its bytes (WhatsApp only; `sha256` as Graph gave it, hex or base64). */
export interface OpenedMedia {
  res: Dispatcher.ResponseData
  sha256?: string
  size?: number
}

/** Opens the media's bytes: a response whose body the caller consumes. */
export async function openMedia(agent: Agent, job: DownloadJob, token: string): Promise<Dispatcher.ResponseData> {
  return (await openDeclared(agent, job, token)).res
}

/** As openMedia, keeping what the Graph lookup declared, for a client that verifies the bytes. */
export async function openDeclared(agent: Agent, job: DownloadJob, token: string): Promise<OpenedMedia> {
  if (job.kind === 'cdn') return { res: await get(agent, job.url, undefined) }
  const info = (await (await get(agent, job.lookupUrl, token)).body.json()) as { url?: string; sha256?: string; file_size?: number | string }
  if (!info.url) throw new Error('Graph lookup returned no url')
  const size = info.file_size === undefined ? undefined : Number(info.file_size)
  return { res: await get(agent, info.url, token), ...(info.sha256 ? { sha256: info.sha256 } : {}), ...(size !== undefined ? { size } : {}) }
}

/** Runs `work` over the jobs in `concurrency` lanes until done or `maxMs` passed. */
export async function inLanes(input: DownloadInput, work: (job: DownloadJob) => Promise<number>): Promise<DownloadOutput> {
  const start = performance.now()
  const cpuStart = process.cpuUsage()
  let next = 0
  let completed = 0
  let bytes = 0
  const lane = async () => {
    while (next < input.jobs.length && performance.now() - start < input.maxMs) {
      // Not `bytes += await …`: that reads `bytes` before the await and loses other lanes' counts.
      const n = await work(input.jobs[next++]!)
      bytes += n
      completed++
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, input.jobs.length)) }, lane))
  const elapsedMs = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  return { completed, bytes, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 }
}

/** Makes a directory's entries durable (a rename into it, a directory made in it). */
export async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}
