/** One media's every field, checks and actions, in a dialog. */
import { api, contentUrl, errorMessage, mediaUrl } from './api.js'
import { $, el } from './dom.js'
import { emit } from './events.js'
import { displayName, preview } from './preview.js'
import type { Features, MediaJson, SignedLink } from './types.js'

const SETTLE_POLL_MS = 1000
const SETTLE_POLLS = 120
let features: Features = { links: false, delete: false }
let shownId: string | null = null
let pollToken = 0

/** Which optional API routes exist (from GET /dashboard/session). */
export function setFeatures(f: Partial<Features> | null | undefined): void {
  features = { links: Boolean(f?.links), delete: Boolean(f?.delete) }
}

const dialog = () => $('detail', HTMLDialogElement)

export async function openDetail(id: string): Promise<void> {
  const box = dialog()
  shownId = id
  try {
    render(await api<MediaJson>(mediaUrl(id)))
  } catch (err) {
    box.replaceChildren(header(id), el('p', { className: 'error', role: 'alert', text: errorMessage(err) }))
  }
  if (!box.open) box.showModal()
}

export function closeDetail(): void {
  const box = dialog()
  if (box.open) box.close()
}

function header(id: string): HTMLElement {
  return el('header', {}, el('h2', { id: 'detail-title', text: id }), el('button', { type: 'button', id: 'detail-close', text: 'Close', onclick: closeDetail }))
}

// Every field of the record, nested objects flattened to dotted names, so fields added to the
// API later show up without a change here.
function flatten(value: unknown, prefix: string, out: [string, string][]): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out)
  } else {
    out.push([prefix, value === null || value === undefined ? '—' : String(value)])
  }
  return out
}

/** A declared sha256 comes as hex or base64; the computed one is hex. */
function hexOfSha256(s: string | null): string | null {
  if (!s) return null
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase()
  try {
    const bin = atob(s)
    if (bin.length !== 32) return null
    return [...bin].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')
  } catch {
    return null
  }
}

function verdict(ok: boolean | null, text: string): HTMLSpanElement {
  return el('span', { className: ok === null ? '' : ok ? 'verdict-ok' : 'verdict-bad', text })
}

function hashCheck(m: MediaJson): HTMLSpanElement {
  const declared = hexOfSha256(m.declared.sha256)
  if (!m.sha256) return verdict(null, 'not stored yet')
  if (!m.declared.sha256) return verdict(null, `Meta declared none; computed ${m.sha256}`)
  if (!declared) return verdict(false, 'declared value is not a sha256')
  return declared === m.sha256 ? verdict(true, 'declared = computed') : verdict(false, 'declared ≠ computed')
}

function typeCheck(m: MediaJson): HTMLSpanElement {
  const base = (t: string | null) => (t || '').split(';')[0]!.trim().toLowerCase()
  if (!m.sniffed_mime_type) {
    return verdict(null, m.status === 'stored' ? `not recognized from the bytes; declared ${m.declared.mime_type || 'nothing'}` : 'not sniffed yet')
  }
  if (!m.declared.mime_type) return verdict(null, `sniffed ${m.sniffed_mime_type}; none declared`)
  return base(m.declared.mime_type) === base(m.sniffed_mime_type)
    ? verdict(true, `declared = sniffed (${base(m.sniffed_mime_type)})`)
    : verdict(false, `declared ${m.declared.mime_type}, sniffed ${m.sniffed_mime_type}`)
}

function render(m: MediaJson): void {
  const notice = el('p', { className: 'notice', id: 'detail-notice', role: 'status' })
  const actions = el('div', { className: 'actions' })
  const infected = m.status === 'failed' && m.error?.code === 'infected'
  if (m.status === 'failed' && !infected) actions.append(el('button', { type: 'button', className: 'primary', id: 'detail-retry', text: 'Retry', onclick: () => void retry(m, notice) }))
  if (infected) actions.append(el('button', { type: 'button', id: 'detail-release', text: 'Release (false positive)', onclick: () => void release(m, notice) }))
  // Remote media (storage policy lazy or proxy) are served too, straight from Meta.
  const servable = m.status === 'stored' || m.status === 'remote'
  if (servable) actions.append(el('a', { id: 'detail-download', href: contentUrl(m.id), download: m.filename || m.id, text: 'Download' }))
  if (features.links && servable) actions.append(el('button', { type: 'button', id: 'detail-link', text: 'Copy signed link', onclick: () => void copyLink(m, notice) }))
  if (features.delete && m.status !== 'deleted') {
    actions.append(el('button', { type: 'button', className: 'danger', id: 'detail-delete', text: 'Delete', onclick: () => void remove(m, notice) }))
  }

  const fields = el(
    'dl',
    { className: 'fields', id: 'detail-fields' },
    el('dt', { text: 'hash check' }),
    el('dd', { id: 'detail-hash-check' }, hashCheck(m)),
    el('dt', { text: 'type check' }),
    el('dd', { id: 'detail-type-check' }, typeCheck(m)),
    flatten(m, '', []).flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { 'data-field': name, text: value })]),
  )

  // Infected media say so first: the signature, and that the bytes are in quarantine.
  const warning = infected
    ? el('p', { className: 'infected', id: 'detail-infected', role: 'alert', text: `Infected: ${m.scan?.signature || 'unknown signature'}. The bytes are quarantined and never served; release them only after review.` })
    : null
  const handles = el('section', { className: 'handles', id: 'detail-handles' })
  dialog().replaceChildren(
    header(m.id),
    el('div', { className: 'body' }, el('div', {}, warning, preview(m, undefined, true), el('p', { className: 'name', text: displayName(m) }), actions, notice, handles), fields),
  )
  if (m.status === 'stored') void showHandles(m.id, handles)
}

interface HandleJson {
  platform: string
  account_id: string
  handle: string
  expires_at: string
  mime_type: string
  variant: string
}

/** The media's cached handles at Meta (outbound media): where it was uploaded, as what, until when. */
async function showHandles(id: string, section: HTMLElement): Promise<void> {
  try {
    const { data } = await api<{ data: HandleJson[] }>(`${mediaUrl(id)}/handles`)
    if (shownId !== id) return
    const items = data.map((h) =>
      el('li', { 'data-platform': h.platform, text: `${h.platform} ${h.account_id}: ${h.handle} (${h.variant === 'original' ? h.mime_type : `converted to ${h.mime_type}`}, valid until ${new Date(h.expires_at).toLocaleString()})` }),
    )
    section.replaceChildren(el('h3', { text: 'Handles at Meta' }), items.length > 0 ? el('ul', {}, ...items) : el('p', { text: 'Not uploaded to Meta.' }))
  } catch (err) {
    section.replaceChildren(el('p', { className: 'error', text: `Handles: ${errorMessage(err)}` }))
  }
}

async function retry(m: MediaJson, notice: HTMLElement): Promise<void> {
  try {
    const queued = await api<MediaJson>(`${mediaUrl(m.id)}/retry`, { method: 'POST' })
    render(queued)
    emit('mediagate:media-changed', queued)
    // render() put a new notice in the dialog; the one passed in is gone.
    $('detail-notice').textContent = 'Queued again; waiting for the capture…'
    void followUntilSettled(m.id)
  } catch (err) {
    notice.textContent = `Retry refused: ${errorMessage(err)}`
  }
}

async function release(m: MediaJson, notice: HTMLElement): Promise<void> {
  if (!window.confirm(`Release ${displayName(m)} (${m.id})? It was found infected with ${m.scan?.signature || 'a signature'}; it will be served again.`)) return
  try {
    const released = await api<MediaJson>(`${mediaUrl(m.id)}/release`, { method: 'POST' })
    render(released)
    emit('mediagate:media-changed', released)
    $('detail-notice').textContent = 'Released: stored and served again.'
  } catch (err) {
    notice.textContent = `Release refused: ${errorMessage(err)}`
  }
}

async function followUntilSettled(id: string): Promise<void> {
  const token = ++pollToken
  for (let i = 0; i < SETTLE_POLLS; i++) {
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS))
    if (token !== pollToken || shownId !== id) return
    try {
      const m = await api<MediaJson>(mediaUrl(id))
      if (m.status !== 'pending') {
        if (shownId === id && dialog().open) render(m)
        emit('mediagate:media-changed', m)
        return
      }
    } catch {
      // Try again next round.
    }
  }
}

/** What POST /v1/media/{id}/links answers; `link` is accepted for the url too. */
type LinkAnswer = Partial<SignedLink> & { link?: string }

async function copyLink(m: MediaJson, notice: HTMLElement): Promise<void> {
  try {
    const link = await api<LinkAnswer | null>(`${mediaUrl(m.id)}/links`, { method: 'POST', json: {} })
    const url = link?.url || link?.link
    if (typeof url !== 'string') throw new Error('the API answered without a url')
    const box = el('input', { className: 'link', id: 'detail-link-url', readonly: true, 'aria-label': 'signed link' })
    box.value = url
    notice.replaceChildren(box)
    box.select()
    try {
      await navigator.clipboard.writeText(url)
      notice.append(el('span', { text: `Copied${link?.expires_at ? `; valid until ${link.expires_at}` : ''}.` }))
    } catch {
      notice.append(el('span', { text: 'Copy the link from the field.' }))
    }
  } catch (err) {
    notice.textContent = `No link: ${errorMessage(err)}`
  }
}

async function remove(m: MediaJson, notice: HTMLElement): Promise<void> {
  if (!window.confirm(`Delete ${displayName(m)} (${m.id})? Its stored bytes are removed.`)) return
  try {
    await api<unknown>(mediaUrl(m.id), { method: 'DELETE' })
    closeDetail()
    emit('mediagate:media-removed', m.id)
  } catch (err) {
    notice.textContent = `Delete refused: ${errorMessage(err)}`
  }
}

export function initDetail(): void {
  dialog().addEventListener('close', () => {
    shownId = null
    pollToken++
  })
}
