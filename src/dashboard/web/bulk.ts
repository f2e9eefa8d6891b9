/**
 * Acting on many media at once: the bar that appears when cards are picked, "all N matching this
 * filter", and retry or delete after a confirmation that says how many (POST /v1/media/batch).
 */
import { api, ApiError, errorMessage, mediaUrl } from './api.js'
import { $, el } from './dom.js'
import { emit, on } from './events.js'
import { hasFeature } from './features.js'
import { apiParams, type Filters } from './filters.js'
import { currentFilters, reloadGallery } from './gallery.js'
import { allMatching, clearPicks, pickAllMatching, pickedCount, pickedIds } from './selection.js'
import type { BatchAction, BatchResult, MediaCount, MediaJson } from './types.js'

/** The server's count for the current filters; null until asked (or after the filters changed). */
let matching: MediaCount | null = null
let countGeneration = 0

// A capped count is the cap plus one: "more than the cap".
const countText = (c: MediaCount) => (c.capped ? `more than ${c.count - 1}` : String(c.count))

async function refreshCount(): Promise<void> {
  const gen = ++countGeneration
  try {
    const c = await api<MediaCount>(`/v1/media/count?${apiParams(currentFilters()).toString()}`)
    if (gen !== countGeneration) return
    matching = c
  } catch {
    if (gen !== countGeneration) return
    matching = null
  }
  render()
}

function render(): void {
  const n = pickedCount()
  const all = allMatching()
  $('bulk').hidden = n === 0 && !all
  $('bulk-count').textContent = all ? `All ${matching ? countText(matching) : '…'} matching this filter` : `${n} selected`
  const offerAll = $('bulk-all')
  // A batch acts on at most the count's cap: beyond it, the filter has to be narrowed first.
  offerAll.hidden = all || matching === null || matching.capped || matching.count <= n
  if (matching) offerAll.textContent = `Select all ${countText(matching)} matching this filter`
  $('bulk-delete').hidden = !hasFeature('delete')
}

/** How many the action will touch, as the confirmation says it. */
function howMany(): number {
  return allMatching() ? (matching?.count ?? 0) : pickedCount()
}

function question(action: BatchAction, n: number): string {
  return action === 'delete' ? `Delete ${n} media? This erases their bytes.` : `Retry ${n} media? Failed ones are captured again; the others are left as they are.`
}

/** The page's own confirmation (a <dialog>): true when the operator pressed the action's button. */
function confirmAction(text: string, label: string, danger: boolean): Promise<boolean> {
  const dialog = $('confirm', HTMLDialogElement)
  const ok = $('confirm-ok', HTMLButtonElement)
  $('confirm-text').textContent = text
  ok.textContent = label
  ok.className = danger ? 'danger-solid' : 'primary'
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true })
    dialog.returnValue = ''
    dialog.showModal()
    $('confirm-cancel').focus()
  })
}

async function run(action: BatchAction): Promise<void> {
  const all = allMatching()
  const n = howMany()
  const result = $('bulk-result')
  if (n === 0) return
  if (!(await confirmAction(question(action, n), action === 'delete' ? `Delete ${n}` : `Retry ${n}`, action === 'delete'))) return
  const filters: Filters = currentFilters()
  const body = all ? { action, filter: Object.fromEntries(apiParams(filters)), expected: n } : { action, ids: pickedIds() }
  try {
    const r = await api<BatchResult>('/v1/media/batch', { method: 'POST', json: body })
    result.replaceChildren(...outcome(r))
    result.hidden = false
    if (all) {
      await reloadGallery(filters)
      return
    }
    // Picked by hand: the cards change where they are, and the list keeps its order.
    const skipped = new Set(r.skipped.map((s) => s.id))
    const done = pickedIds().filter((id) => !skipped.has(id))
    clearPicks()
    for (const id of done) {
      if (action === 'delete') emit('mediagate:media-removed', id)
      else void api<MediaJson>(mediaUrl(id)).then((m) => emit('mediagate:media-changed', m), () => undefined)
    }
  } catch (err) {
    if (err instanceof ApiError && err.code === 'count_changed') {
      result.textContent = `Nothing was done: the number of media matching this filter changed since it was counted (${n}). Check the new count and confirm again.`
      result.hidden = false
      await refreshCount()
      return
    }
    result.textContent = `${action === 'delete' ? 'Delete' : 'Retry'} refused: ${errorMessage(err)}`
    result.hidden = false
  }
}

function outcome(r: BatchResult): (HTMLElement | string)[] {
  const verb = r.action === 'delete' ? 'Deleted' : 'Queued for another try'
  const lines: (HTMLElement | string)[] = [`${verb}: ${r.done} of ${r.matched}.`]
  if (r.skipped.length > 0) {
    lines.push(` ${r.skipped.length} skipped:`)
    lines.push(el('ul', { className: 'skipped' }, ...r.skipped.slice(0, 20).map((s) => el('li', { text: `${s.id}: ${s.reason}` }))))
  }
  return lines
}

export function initBulk(): void {
  $('bulk-all').addEventListener('click', pickAllMatching)
  $('bulk-clear').addEventListener('click', clearPicks)
  $('bulk-retry').addEventListener('click', () => void run('retry'))
  $('bulk-delete').addEventListener('click', () => void run('delete'))
  $('bulk-result').addEventListener('click', () => ($('bulk-result').hidden = true))
  on('mediagate:selection-changed', () => {
    // Counted once a first card is picked, so the offer of "all N" is ready when wanted.
    if (matching === null && (pickedCount() > 0 || allMatching())) void refreshCount()
    render()
  })
  on('mediagate:list-reloaded', () => {
    matching = null
    countGeneration++
    render()
  })
}
