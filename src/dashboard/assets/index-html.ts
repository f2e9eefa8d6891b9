/**
 * The dashboard's only page, src/dashboard/web/index.html, with the filter lists filled in from
 * the catalog's own vocabularies so a new platform, status or kind needs no change to the page.
 * The page is static otherwise: the data arrives through the /v1 API and is put into the DOM
 * with textContent by the scripts, never as HTML. No inline script or style (see the CSP).
 */
import { ERROR_CODES } from '../../errors.js'
import { MEDIA_KINDS, MEDIA_STATUSES, PLATFORMS } from '../../media/record.js'

/** `<!--options:NAME-->` in index.html becomes one `<option>` per value. */
const OPTION_LISTS: Readonly<Record<string, readonly string[]>> = { platforms: PLATFORMS, statuses: MEDIA_STATUSES, kinds: MEDIA_KINDS, error_codes: Object.keys(ERROR_CODES) }
const MARKER = /<!--options:([a-z_]+)-->/g

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const options = (values: readonly string[]) => values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`).join('')

export function renderIndexHtml(template: string): string {
  const missing = Object.keys(OPTION_LISTS).filter((name) => !template.includes(`<!--options:${name}-->`))
  if (missing.length > 0) throw new Error(`the dashboard's index.html lacks ${missing.map((name) => `<!--options:${name}-->`).join(', ')}`)
  return template.replace(MARKER, (_marker, name: string) => {
    const values = OPTION_LISTS[name]
    if (!values) throw new Error(`the dashboard's index.html has an unknown marker <!--options:${name}-->`)
    return options(values)
  })
}
