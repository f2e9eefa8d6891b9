/**
 * What a scenario reports: rows of "measured value, baseline value, ratio, target", and whether
 * the target is met. The table printer and the results JSON both read these rows.
 */

/**
 * A target on the ratio (value ÷ baseline) or on the value itself. `ratio-at-most` is for costs
 * (CPU per media, bytes per request): the gateway's cost may be at most `value` times the
 * baseline's, and the ratio shown is value ÷ baseline, so there lower is better.
 */
export type Target =
  | { kind: 'ratio-at-least'; value: number }
  | { kind: 'ratio-at-most'; value: number }
  | { kind: 'at-most'; value: number }
  | { kind: 'at-least'; value: number }

export interface Row {
  scenario: string
  /** What was measured, e.g. `throughput, signed webhooks`. */
  metric: string
  unit: string
  /** The gateway's figure (or the measured figure when there is no baseline). */
  value: number
  baseline?: { name: string; value: number }
  /** value ÷ baseline, or baseline ÷ value when `lowerIsBetter` (so > 1 always means "better"). */
  ratio?: number
  lowerIsBetter?: boolean
  target?: Target
  /** True/false when there is a target. */
  met?: boolean
  note?: string
}

export function row(r: Omit<Row, 'ratio' | 'met'>): Row {
  const out: Row = { ...r }
  if (r.baseline && Number.isFinite(r.baseline.value) && r.baseline.value !== 0 && Number.isFinite(r.value) && r.value !== 0) {
    out.ratio = r.lowerIsBetter ? r.baseline.value / r.value : r.value / r.baseline.value
  }
  if (r.target) out.met = meets(out, r.target)
  return out
}

function meets(r: Row, t: Target): boolean {
  switch (t.kind) {
    case 'ratio-at-least':
      return r.ratio !== undefined && r.ratio >= t.value
    case 'ratio-at-most':
      return r.ratio !== undefined && r.ratio <= t.value
    case 'at-most':
      return Number.isFinite(r.value) && r.value <= t.value
    case 'at-least':
      return Number.isFinite(r.value) && r.value >= t.value
  }
}

export function targetText(t: Target | undefined, unit: string): string {
  if (!t) return ''
  switch (t.kind) {
    case 'ratio-at-least':
      return `≥ ${t.value} ×`
    case 'ratio-at-most':
      return `≤ ${t.value} ×`
    case 'at-most':
      return `≤ ${fmt(t.value)} ${unit}`
    case 'at-least':
      return `≥ ${fmt(t.value)} ${unit}`
  }
}

/** Three significant figures, thousands separated; what a reader compares at a glance. */
export function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '—'
  if (!Number.isFinite(n)) return '∞'
  const abs = Math.abs(n)
  if (abs >= 100) return Math.round(n).toLocaleString('en-US')
  if (abs >= 10) return n.toFixed(1)
  if (abs >= 1) return n.toFixed(2)
  return n.toPrecision(2)
}

/** The result of one scenario: its rows, plus raw figures kept in the JSON for later reading. */
export interface ScenarioResult {
  scenario: string
  rows: Row[]
  details: Record<string, unknown>
  notes: string[]
}
