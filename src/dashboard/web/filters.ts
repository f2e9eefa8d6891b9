/**
 * The gallery's filters, kept in the page's URL so that a view can be shared and the back button
 * goes to the previous one. The URL holds the API's own query parameters (instants as UTC ISO);
 * the form shows them, dates in the viewer's local time.
 */
import { $ } from './dom.js'

/** The API's filter parameters the dashboard offers, in the order they appear in URLs. */
export const FILTER_NAMES = ['q', 'status', 'platform', 'kind', 'account_id', 'error_code', 'received_after', 'received_before', 'changed_after'] as const
export type FilterName = (typeof FILTER_NAMES)[number]
export type Filters = Partial<Record<FilterName, string>>

const DATE_FIELDS: ReadonlySet<FilterName> = new Set(['received_after', 'received_before', 'changed_after'])

/** The status field's value that lists deleted media (tombstones) too; no status lists all but them. */
export const ANY_STATUS = 'any'

const form = () => $('filters', HTMLFormElement)

function input(name: FilterName): HTMLInputElement | HTMLSelectElement {
  const node = form().elements.namedItem(name)
  if (node instanceof HTMLInputElement || node instanceof HTMLSelectElement) return node
  throw new Error(`the filter form has no field ${name}`)
}

/** The filters the URL names (unknown parameters are left alone). */
export function filtersFromUrl(search = location.search): Filters {
  const params = new URLSearchParams(search)
  const out: Filters = {}
  for (const name of FILTER_NAMES) {
    const value = params.get(name)?.trim()
    if (value) out[name] = value
  }
  return out
}

/** The filters as the form shows them now. */
export function filtersFromForm(): Filters {
  const out: Filters = {}
  for (const name of FILTER_NAMES) {
    const value = input(name).value.trim()
    if (!value) continue
    if (DATE_FIELDS.has(name)) {
      // datetime-local is the browser's local time; the API and the URL want an instant.
      const date = new Date(value)
      if (!Number.isNaN(date.getTime())) out[name] = date.toISOString()
    } else {
      out[name] = value
    }
  }
  return out
}

export function showFilters(filters: Filters): void {
  for (const name of FILTER_NAMES) {
    const value = filters[name] ?? ''
    const field = input(name)
    if (DATE_FIELDS.has(name) && value) field.value = toLocalInput(value)
    else if (field instanceof HTMLSelectElement && value && ![...field.options].some((o) => o.value === value)) {
      // A value the page does not list (an older link): shown rather than silently dropped.
      field.append(new Option(value, value))
      field.value = value
    } else field.value = value
  }
}

/** What a datetime-local field shows for an instant: the viewer's local wall-clock time. */
function toLocalInput(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000)
  return local.toISOString().slice(0, 19)
}

/** The query string of the page showing these filters ('' for none). */
export function searchOf(filters: Filters): string {
  const params = new URLSearchParams()
  for (const name of FILTER_NAMES) {
    const value = filters[name]
    if (value) params.set(name, value)
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

/**
 * The filters as API query parameters. Without a status the list leaves tombstones out: the API's
 * every status but `deleted`, read from the status field's own options (the server fills them).
 */
export function apiParams(filters: Filters): URLSearchParams {
  const params = new URLSearchParams(searchOf(filters))
  if (filters.status === ANY_STATUS) params.delete('status')
  else if (!filters.status) params.set('status', liveStatuses().join(','))
  return params
}

function liveStatuses(): string[] {
  const field = input('status')
  const options = field instanceof HTMLSelectElement ? [...field.options].map((o) => o.value) : []
  return options.filter((v) => v !== '' && v !== ANY_STATUS && v !== 'deleted')
}

/** A new history entry for these filters, unless the URL shows them already. */
export function pushFilters(filters: Filters): void {
  const search = searchOf(filters)
  if (search !== location.search) history.pushState(null, '', `/${search}`)
}
