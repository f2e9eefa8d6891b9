/** A benchmark scenario: measures mediagate and its baselines in the same run. */
import type { BenchContext } from './context.js'
import type { ScenarioResult } from './report.js'

export interface Scenario {
  /** Used by `--only` and in result file names. */
  name: string
  title: string
  run(ctx: BenchContext): Promise<ScenarioResult>
}
