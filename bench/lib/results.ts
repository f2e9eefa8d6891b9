/**
 * Results files: `bench/results/<date>-<scenario>.json` (quick runs: `…-quick.json`, profiled
 * runs: `…-profiled.json`, both ignored by git), each with the machine, Node version, date and
 * command, so a figure can be reproduced.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ScenarioResult } from './report.js'

export interface Machine {
  cpuModel: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  /** 1-minute load average when the scenario ended: other work on the machine skews the figures. */
  loadAverage: number
}

export function machine(): Machine {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  }
}

/** YYYY-MM-DD in UTC. */
export function today(): string {
  return new Date().toISOString().slice(0, 10)
}

export interface ResultMeta {
  command: string
  quick: boolean
  /** Under --cpu-prof the gateway is slower: such figures are kept apart (`…-profiled.json`). */
  profiled: boolean
  startedAt: Date
}

export async function writeResult(dir: string, result: ScenarioResult, meta: ResultMeta): Promise<string> {
  await mkdir(dir, { recursive: true })
  const suffix = `${meta.quick ? '-quick' : ''}${meta.profiled ? '-profiled' : ''}`
  const file = path.join(dir, `${today()}-${result.scenario}${suffix}.json`)
  const json = { ...result, date: meta.startedAt.toISOString(), command: meta.command, quick: meta.quick, profiled: meta.profiled, machine: machine() }
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`)
  return file
}
