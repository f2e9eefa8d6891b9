/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and says where the time went: self time by
 * function and by area (a package, a file of ours, Node internals, GC), and inclusive time of
 * mediagate's own functions. Also runnable: `node dist-bench/bench/lib/profile-summary.js FILE`.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface Share {
  name: string
  ms: number
  percent: number
}

export interface ProfileSummary {
  /** Sampled time, idle excluded. */
  busyMs: number
  idleMs: number
  selfByFunction: Share[]
  selfByArea: Share[]
  /** Inclusive time of functions in src/ (each sample counted once per function). */
  ourInclusive: Share[]
}

/** Where a frame's code lives: `fastify`, `src/intake/intake.ts`, `node:internal/streams`, `(garbage collector)`. */
export function areaOf(frame: CallFrame): string {
  const url = frame.url
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg?.[1]) return pkg[1]
  const ours = /\/(src\/.+?)\.js$/.exec(url) ?? /\/(bench\/.+?)\.js$/.exec(url)
  if (ours?.[1]) return `${ours[1]}.ts`
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  return url.replace(/^file:\/\//, '')
}

function label(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${areaOf(frame)}:${frame.lineNumber + 1}`
}

function top(map: Map<string, number>, total: number, n: number): Share[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: total ? (100 * us) / total : 0 }))
}

export function summarize(profile: CpuProfile, n = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const selfFn = new Map<string, number>()
  const selfArea = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busy = 0
  let idle = 0
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    const node = byId.get(id)
    if (!node) return
    if (node.callFrame.functionName === '(idle)') {
      idle += us
      return
    }
    busy += us
    selfFn.set(label(node.callFrame), (selfFn.get(label(node.callFrame)) ?? 0) + us)
    selfArea.set(areaOf(node.callFrame), (selfArea.get(areaOf(node.callFrame)) ?? 0) + us)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame
      if (!areaOf(frame).startsWith('src/')) continue
      const key = label(frame)
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + us)
    }
  })
  return { busyMs: busy / 1000, idleMs: idle / 1000, selfByFunction: top(selfFn, busy, n), selfByArea: top(selfArea, busy, n), ourInclusive: top(inclusive, busy, n) }
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const list = (heading: string, shares: Share[]) => [`  ${heading}`, ...shares.map((x) => `    ${x.percent.toFixed(1).padStart(5)} %  ${x.ms.toFixed(0).padStart(7)} ms  ${x.name}`)]
  return [
    `${title}: busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms`,
    ...list('self time by area (% of busy)', s.selfByArea),
    ...list('self time by function', s.selfByFunction),
    ...list('inclusive time of mediagate functions', s.ourInclusive),
  ].join('\n')
}

export async function summarizeFile(file: string, n = 15): Promise<ProfileSummary> {
  return summarize(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, n)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) process.stdout.write(`${formatSummary(file, await summarizeFile(file, 20))}\n\n`)
}
