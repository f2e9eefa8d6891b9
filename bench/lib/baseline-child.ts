/** Starts a baseline script from bench/baselines/ as a child process, as the gateway is run. */
import path from 'node:path'
import { benchScript, type Child, startChild } from './child.js'
import { type BenchContext, profileArgs } from './context.js'

export function startBaseline<R = Record<string, never>>(ctx: BenchContext, name: string, env: Record<string, string> = {}): Promise<Child<R>> {
  return startChild<R>(benchScript(`baselines/${name}.js`), {
    name: `baseline ${name}`,
    logFile: path.join(ctx.workDir, `baseline-${name}.log`),
    execArgv: profileArgs(ctx, `baseline-${name}`),
    env,
  })
}
