/** The filtered, paged list of recent media, kept current as media settle, change, go or arrive. */
import { api, errorMessage, mediaUrl } from './api.js'
import { card } from './card.js'
import { openDetail } from './detail.js'
import { $ } from './dom.js'
import { emit, on } from './events.js'
import { apiParams, type Filters, filtersFromForm, filtersFromUrl, pushFilters, showFilters } from './filters.js'
import { countNew, newBarText } from './live.js'
import { clearPicks, isPicked, pick, unpick } from './selection.js'
import type { MediaJson, MediaPage } from './types.js'

const PAGE = 24
const MAX_LIVE_UPDATES = 48
/** Search windows read for one click before asking whether to go on. */
const SEARCH_ROUNDS = 4
let cursor: string | null = null
let current: Filters = {}
// Answers to a query that was replaced meanwhile (the filters changed) are dropped.
let generation = 0
/** The ids on screen, in the order shown, and the newest `received_at` among them. */
let order: string[] = []
let newest: string | null = null

export const currentFilters = (): Filters => ({ ...current })
export const shownIds = (): readonly string[] => order

const handlers = {
  open: (id: string) => void openDetail(id),
  select: (id: string, checked: boolean, range: boolean) => pick(id, checked, range, order),
}

const draw = (m: MediaJson) => card(m, isPicked(m.id), handlers)

/** Loads the first page for these filters (default: what the URL says). */
export async function reloadGallery(filters: Filters = filtersFromUrl()): Promise<void> {
  current = filters
  showFilters(filters)
  // On a phone the less used filters are folded: one that is set is shown.
  if (Object.keys(filters).some((name) => !['q', 'status', 'platform'].includes(name))) $('filters', HTMLFormElement).classList.add('open')
  cursor = null
  order = []
  newest = null
  clearPicks()
  $('gallery').replaceChildren()
  $('load-more').hidden = true
  $('new-bar').hidden = true
  emit('mediagate:list-reloaded', null)
  await loadPage(++generation)
}

/**
 * One more page. A search examines a bounded window of records per request, so a rare term's
 * page can come back short or empty with a cursor to older ones: up to a few windows are read
 * in a row before the operator is asked whether to search further.
 */
async function loadPage(gen: number): Promise<void> {
  const errorBox = $('list-error')
  const list = $('gallery')
  let added = 0
  try {
    for (let round = 0; round < SEARCH_ROUNDS && added < PAGE; round++) {
      const params = apiParams(current)
      params.set('limit', String(PAGE))
      if (cursor) params.set('cursor', cursor)
      const page = await api<MediaPage>(`/v1/media?${params.toString()}`)
      if (gen !== generation) return
      for (const m of page.data) {
        if (order.includes(m.id)) continue
        order.push(m.id)
        added++
        if (newest === null || Date.parse(m.received_at) > Date.parse(newest)) newest = m.received_at
        list.append(draw(m))
      }
      cursor = page.next_cursor
      if (!cursor) break
    }
    errorBox.hidden = true
    const loadMore = $('load-more')
    loadMore.hidden = !cursor
    loadMore.textContent = current.q && added < PAGE ? 'Search older media' : 'Load more'
    $('empty').hidden = list.children.length > 0
    $('empty').textContent = cursor ? 'No match among the most recent media yet.' : 'No media match these filters.'
  } catch (err) {
    if (gen !== generation) return
    errorBox.textContent = errorMessage(err)
    errorBox.hidden = false
  }
}

/** New filters from the form or a link: a history entry, then the list. */
export function applyFilters(filters: Filters): void {
  pushFilters(filters)
  void reloadGallery(filters)
}

const cards = (selector = 'li.card') => [...$('gallery').querySelectorAll<HTMLLIElement>(selector)]

function replaceCard(m: MediaJson): void {
  for (const li of cards()) {
    if (li.dataset.id === m.id) li.replaceWith(draw(m))
  }
}

function removeCard(id: string): void {
  for (const li of cards()) {
    if (li.dataset.id === id) li.remove()
  }
  order = order.filter((x) => x !== id)
  unpick(id)
  $('empty').hidden = order.length > 0
}

/** Redraws the checkboxes after the selection changed (a range, "all matching", a clear). */
function redrawPicks(): void {
  for (const li of cards()) {
    const on = isPicked(li.dataset.id ?? '')
    li.classList.toggle('selected', on)
    const box = li.querySelector<HTMLInputElement>('input.pick')
    if (box) box.checked = on
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

/** Counts media that arrived since the list was loaded and offers them in the bar. */
export async function checkForNew(): Promise<void> {
  const gen = generation
  try {
    const found = await countNew(current, newest, new Set(order))
    if (gen !== generation) return
    const bar = $('new-bar')
    bar.textContent = newBarText(found)
    bar.hidden = found.count === 0
  } catch {
    // Next round; a 401 signs the page out through the api module.
  }
}

export function initGallery(): void {
  const form = $('filters', HTMLFormElement)
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    applyFilters(filtersFromForm())
  })
  form.addEventListener('change', (ev) => {
    if (ev.target instanceof HTMLSelectElement) applyFilters(filtersFromForm())
  })
  // The reset event comes before the fields are cleared.
  form.addEventListener('reset', () => setTimeout(() => applyFilters({}), 0))
  window.addEventListener('popstate', () => void reloadGallery())
  const toggle = $('filters-toggle')
  toggle.addEventListener('click', () => {
    const open = !form.classList.contains('open')
    form.classList.toggle('open', open)
    toggle.setAttribute('aria-expanded', String(open))
  })
  $('load-more').addEventListener('click', () => void loadPage(generation))
  $('new-bar').addEventListener('click', () => {
    window.scrollTo({ top: 0 })
    void reloadGallery(current)
  })
  on('mediagate:media-changed', replaceCard)
  on('mediagate:media-removed', removeCard)
  on('mediagate:selection-changed', redrawPicks)
}
