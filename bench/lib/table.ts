/** Prints rows as an aligned text table (terminal) or a Markdown table (README). */
import { fmt, type Row, targetText } from './report.js'

const HEADERS = ['scenario', 'measurement', 'measured', 'baseline', 'ratio', 'target', 'met']

function cells(r: Row): string[] {
  const baseline = r.baseline ? `${fmt(r.baseline.value)} (${r.baseline.name})` : ''
  const met = r.met === undefined ? '' : r.met ? 'yes' : 'NO'
  return [r.scenario, `${r.metric} [${r.unit}]`, fmt(r.value), baseline, r.ratio === undefined ? '' : `${fmt(r.ratio)} ×`, targetText(r.target, r.unit), met]
}

export function textTable(rows: readonly Row[]): string {
  const body = rows.map(cells)
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)))
  const line = (c: string[]) => c.map((v, i) => (i >= 2 && i <= 4 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

export function markdownTable(rows: readonly Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|')
  const out = [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map((_, i) => (i >= 2 && i <= 4 ? '---:' : '---')).join('|')}|`]
  for (const r of rows) out.push(`| ${cells(r).map(esc).join(' | ')} |`)
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.scenario}, ${r.metric}: ${r.note}`)
  return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n')
}
