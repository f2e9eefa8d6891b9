/**
 * The header's figures (GET /v1/stats). On a phone they fold into one summary line that opens
 * them; "failed (1 h)" opens the list of media that failed in the last hour (the figure's own rule).
 */
import { api } from './api.js'
import { $, formatAge, formatTime } from './dom.js'
import { applyFilters } from './gallery.js'
import type { StatsJson } from './types.js'

const HOUR_MS = 3_600_000

export async function refreshStats(): Promise<void> {
  try {
    const s = await api<StatsJson>('/v1/stats')
    let pending = 0
    for (const c of s.counts) if (c.status === 'pending') pending += c.count
    const failed = s.last_hour.failed
    $('stat-pending').textContent = String(pending)
    $('stat-stored').textContent = String(s.last_hour.stored)
    $('stat-failed').textContent = String(failed)
    $('stat-failed').title = ['Show failed media', ...s.last_hour.failed_by_code.map((f) => `${f.code}: ${f.count}`)].join('\n')
    $('stat-failed').classList.toggle('alarm', failed > 0)
    $('stat-rate').textContent = String(s.capture_rate_per_min)
    $('stat-oldest').textContent = s.oldest_pending_at ? formatAge(Date.now() - Date.parse(s.oldest_pending_at)) : '—'
    $('stats-toggle').textContent = `${pending} pending · ${failed} failed (1 h)`
    $('stats-toggle').classList.toggle('alarm', failed > 0)
    // Meta stops serving these soon: capture is behind, or failing for them.
    const near = s.near_deadline.count
    const earliest = s.near_deadline.earliest ? formatTime(s.near_deadline.earliest) : '?'
    $('deadline-warning').textContent = near > 0 ? `${near} pending media within an hour of their capture deadline (earliest ${earliest}); Meta stops serving them after it` : ''
    $('deadline-warning').hidden = near === 0
    $('stats').hidden = false
    $('stats-toggle').hidden = false
  } catch {
    // The last figures stay; a 401 signs the page out through the api module.
  }
}

export function hideStats(): void {
  $('stats').hidden = true
  $('stats-toggle').hidden = true
}

export function initStats(): void {
  const toggle = $('stats-toggle')
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true'
    toggle.setAttribute('aria-expanded', String(open))
    $('top').classList.toggle('stats-open', open)
  })
  $('stat-failed-link').addEventListener('click', (ev) => {
    ev.preventDefault()
    applyFilters({ status: 'failed', changed_after: new Date(Date.now() - HOUR_MS).toISOString() })
  })
}
