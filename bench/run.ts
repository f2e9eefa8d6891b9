/**
 * `npm run bench [-- --quick] [-- --only intake,serving] [-- --profile] [-- --keep]`
 *
 * Runs each scenario with its baselines in the same run, prints a table with ratios and targets,
 * and writes bench/results/<date>-<scenario>.json (quick runs: …-quick.json) plus a Markdown table
 * for the README. Exit code 1 if a scenario could not run; a missed target is reported, not fatal.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { BenchContext } from './lib/context.js'
import { formatSummary, summarizeFile } from './lib/profile-summary.js'
import type { Row } from './lib/report.js'
import { machine, today, writeResult } from './lib/results.js'
import type { Scenario } from './lib/scenario.js'
import { markdownTable, textTable } from './lib/table.js'
import { captureLarge } from './scenarios/capture-large.js'
import { captureS3 } from './scenarios/capture-s3.js'
import { captureSmall } from './scenarios/capture-small.js'
import { derivatives } from './scenarios/derivatives.js'
import { emulatorHonesty } from './scenarios/emulator-honesty.js'
import { intake } from './scenarios/intake.js'
import { serving } from './scenarios/serving.js'
import { scanning } from './scenarios/scanning.js'
import { outbound } from './scenarios/outbound.js'
import { largeCatalog } from './scenarios/large-catalog.js'

const SCENARIOS: Scenario[] = [intake, captureSmall, captureLarge, captureS3, serving, scanning, emulatorHonesty, derivatives, outbound, largeCatalog]
/** The bench's own sources, not the compiled copy: results are committed next to them. */
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url))

/** Summaries of the profiles written since `before`: `<child label>/<file>`, main thread (tid 0) first. */
async function profileReport(dir: string, before: Set<string>): Promise<string[]> {
  const files = (await readdir(dir, { recursive: true }))
    .filter((f) => f.endsWith('.cpuprofile') && !before.has(f))
    .sort((a, b) => threadOf(a) - threadOf(b) || a.localeCompare(b))
  const out: string[] = []
  for (const file of files) out.push(formatSummary(`${file} (${threadOf(file) === 0 ? 'main thread' : `worker thread ${threadOf(file)}`})`, await summarizeFile(path.join(dir, file))))
  return out
}

function threadOf(file: string): number {
  const tid = /\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1]
  return tid === undefined ? 0 : Number(tid)
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  })
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = only?.filter((name) => !SCENARIOS.some((s) => s.name === name))
  if (unknown?.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  const selected = SCENARIOS.filter((s) => !only || only.includes(s.name))
  const quick = values.quick ?? false
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`

  const workDir = await mkdtemp(path.join(os.tmpdir(), 'mediagate-bench-'))
  const profileDir = values.profile ? path.join(RESULTS_DIR, 'profiles') : undefined
  if (profileDir) await mkdir(profileDir, { recursive: true })
  const ctx: BenchContext = { quick, workDir, resultsDir: RESULTS_DIR, profileDir, log: (m) => process.stderr.write(`${m}\n`) }
  const m = machine()
  ctx.log(`mediagate bench${quick ? ' (quick)' : ''}: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}`)
  if (m.loadAverage > m.cores / 2) {
    ctx.log(`warning: load average ${m.loadAverage} on ${m.cores} cores: something else is running, absolute figures will be low (ratios suffer less)`)
  }

  const startedAt = new Date()
  const rows: Row[] = []
  const failures: string[] = []
  try {
    for (const scenario of selected) {
      ctx.log(`\n== ${scenario.title}`)
      const profilesBefore = profileDir ? new Set(await readdir(profileDir, { recursive: true })) : new Set<string>()
      const t0 = performance.now()
      try {
        const result = await scenario.run(ctx)
        rows.push(...result.rows)
        const file = await writeResult(RESULTS_DIR, result, { command, quick, profiled: profileDir !== undefined, startedAt })
        ctx.log(`${textTable(result.rows)}\n(${((performance.now() - t0) / 1000).toFixed(0)} s; ${path.relative(process.cwd(), file)})`)
      } catch (err) {
        failures.push(`${scenario.name}: ${(err as Error).stack ?? String(err)}`)
        ctx.log(`!! ${scenario.name} failed: ${(err as Error).stack ?? String(err)}`)
      }
      if (profileDir) {
        const summaries = await profileReport(profileDir, profilesBefore)
        if (summaries.length) {
          const file = path.join(profileDir, `${today()}-${scenario.name}.txt`)
          await writeFile(file, `${summaries.join('\n\n')}\n`)
          ctx.log(`${summaries.join('\n\n')}\n(profile summary: ${path.relative(process.cwd(), file)})`)
        }
      }
    }
  } finally {
    if (!values.keep) await rm(workDir, { recursive: true, force: true })
    else ctx.log(`kept ${workDir}`)
  }

  const elapsed = (Date.now() - startedAt.getTime()) / 1000
  const load = `load average ${m.loadAverage} before, ${machine().loadAverage} after`
  const header = `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}, ${startedAt.toISOString().slice(0, 10)}; \`${command}\` took ${elapsed.toFixed(0)} s; ${load}`
  process.stdout.write(`\n${textTable(rows)}\n\n${header}\n`)
  if (!only && !profileDir) {
    // Only a complete, unprofiled run may replace the table the README quotes.
    const mdFile = path.join(RESULTS_DIR, `${today()}-table${quick ? '-quick' : ''}.md`)
    await writeFile(mdFile, `${header}\n\n${markdownTable(rows)}\n`)
    ctx.log(`Markdown table: ${path.relative(process.cwd(), mdFile)}`)
  }
  const missed = rows.filter((r) => r.met === false)
  if (missed.length) ctx.log(`${missed.length} target(s) missed: ${missed.map((r) => `${r.scenario} / ${r.metric}`).join('; ')}`)
  if (failures.length) ctx.log(`${failures.length} scenario(s) failed to run:\n${failures.join('\n')}`)
  return failures.length ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
