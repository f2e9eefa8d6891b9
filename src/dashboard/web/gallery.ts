/** The filtered, paged list of recent media, kept current as media settle, change or go. */
import { api, errorMessage, mediaUrl } from './api.js'
import { openDetail } from './detail.js'
import { $, el, formatBytes, formatTime } from './dom.js'
import { on } from './events.js'
import { preview } from './preview.js'
import type { MediaJson, MediaPage } from './types.js'

const PAGE = 24
const MAX_LIVE_UPDATES = 48
let cursor: string | null = null
// Answers to a query that was replaced meanwhile (the filters changed) are dropped.
let generation = 0

function field(form: HTMLFormElement, name: string): string {
  const input = form.elements.namedItem(name)
  if (input instanceof HTMLInputElement || input instanceof HTMLSelectElement) return input.value
  throw new Error(`the filter form has no field ${name}`)
}

function query(): URLSearchParams {
  const form = $('filters', HTMLFormElement)
  const params = new URLSearchParams()
  for (const name of ['platform', 'status', 'kind', 'account_id', 'message_id']) {
    const value = field(form, name).trim()
    if (value) params.set(name, value)
  }
  // datetime-local is the browser's local time; the API wants an instant.
  for (const name of ['received_after', 'received_before']) {
    const value = field(form, name)
    const date = value ? new Date(value) : null
    if (date && !Number.isNaN(date.getTime())) params.set(name, date.toISOString())
  }
  params.set('limit', String(PAGE))
  return params
}

export function card(m: MediaJson): HTMLLIElement {
  const open = () => void openDetail(m.id)
  return el(
    'li',
    { className: 'card', 'data-id': m.id, 'data-status': m.status, 'data-kind': m.kind, 'data-platform': m.platform },
    preview(m, open),
    el(
      'div',
      { className: 'meta' },
      el(
        'div',
        { className: 'line' },
        el('span', { className: `badge status status-${m.status}`, text: m.status }),
        el('span', { className: 'badge', text: m.platform }),
        el('span', { className: 'badge', text: m.kind }),
      ),
      el('div', { className: 'name', text: m.filename || m.caption || m.message_id }),
      el('div', { className: 'when', text: formatTime(m.received_at) + (m.size !== null ? ` · ${formatBytes(m.size)}` : '') }),
      m.error ? el('div', { className: 'error', text: m.error.code === 'infected' ? `infected: ${m.scan?.signature || 'unknown signature'}` : m.error.code }) : null,
      el('div', { className: 'line' }, el('button', { type: 'button', className: 'details', text: 'Details', onclick: open })),
    ),
  )
}

export async function reloadGallery(): Promise<void> {
  cursor = null
  $('gallery').replaceChildren()
  $('load-more').hidden = true
  await loadPage(++generation)
}

async function loadPage(gen: number): Promise<void> {
  const params = query()
  if (cursor) params.set('cursor', cursor)
  const errorBox = $('list-error')
  try {
    const page = await api<MediaPage>(`/v1/media?${params.toString()}`)
    if (gen !== generation) return
    errorBox.hidden = true
    const list = $('gallery')
    for (const m of page.data) list.append(card(m))
    cursor = page.next_cursor
    $('load-more').hidden = !cursor
    $('empty').hidden = list.children.length > 0
  } catch (err) {
    if (gen !== generation) return
    errorBox.textContent = errorMessage(err)
    errorBox.hidden = false
  }
}

const cards = (selector = 'li.card') => [...$('gallery').querySelectorAll<HTMLLIElement>(selector)]

function replaceCard(m: MediaJson): void {
  for (const li of cards()) {
    if (li.dataset.id === m.id) li.replaceWith(card(m))
  }
}

function removeCard(id: string): void {
  for (const li of cards()) {
    if (li.dataset.id === id) li.remove()
  }
}

/** Pending media on screen are looked at again, so captures show up as they settle. */
export async function refreshPendingCards(): Promise<void> {
  const pending = cards('li.card[data-status="pending"]').slice(0, MAX_LIVE_UPDATES)
  for (const li of pending) {
    const id = li.dataset.id
    if (!id) continue
    try {
      const m = await api<MediaJson>(mediaUrl(id))
      if (m.status !== 'pending') replaceCard(m)
    } catch {
      // Next round.
    }
  }
}

export function initGallery(): void {
  const form = $('filters', HTMLFormElement)
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void reloadGallery()
  })
  form.addEventListener('change', (ev) => {
    if (ev.target instanceof HTMLSelectElement) void reloadGallery()
  })
  // The reset event comes before the fields are cleared.
  form.addEventListener('reset', () => setTimeout(() => void reloadGallery(), 0))
  $('load-more').addEventListener('click', () => void loadPage(generation))
  on('mediagate:media-changed', replaceCard)
  on('mediagate:media-removed', removeCard)
}
