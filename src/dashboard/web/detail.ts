/**
 * One media in a dialog: for a failed one, first what failed and whether a retry can help; then
 * the fields a person reads, with the hash and type checks; the whole record as JSON behind a
 * toggle; and the actions.
 */
import { api, contentUrl, errorMessage, mediaUrl } from './api.js'
import { platformName, senderOf, subjectOf } from './card.js'
import { $, el, formatBytes, formatTime, timeEl } from './dom.js'
import { emit } from './events.js'
import { hasFeature } from './features.js'
import { displayName, preview } from './preview.js'
import type { MediaJson, SignedLink } from './types.js'

const SETTLE_POLL_MS = 1000
const SETTLE_POLLS = 120
let shownId: string | null = null
let pollToken = 0

const dialog = () => $('detail', HTMLDialogElement)

export async function openDetail(id: string): Promise<void> {
  const box = dialog()
  shownId = id
  try {
    render(await api<MediaJson>(mediaUrl(id)))
  } catch (err) {
    box.replaceChildren(header(null, id), el('p', { className: 'error', role: 'alert', text: errorMessage(err) }))
  }
  if (!box.open) box.showModal()
}

export function closeDetail(): void {
  const box = dialog()
  if (box.open) box.close()
}

function header(m: MediaJson | null, id: string): HTMLElement {
  return el(
    'header',
    {},
    el('div', { className: 'heading' }, el('h2', { id: 'detail-title', text: m ? `${senderOf(m)} — ${subjectOf(m)}` : id }), el('span', { className: 'media-id', id: 'detail-id', text: id })),
    el('button', { type: 'button', id: 'detail-close', text: 'Close', onclick: closeDetail }),
  )
}

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

/** A failed media's first words: what failed, whether retrying helps, what to fix; and its retry. */
function failureSummary(m: MediaJson, notice: HTMLElement): HTMLElement | null {
  if (m.status !== 'failed' || !m.error || m.error.code === 'infected') return null
  const f = m.failure
  const retry = el('button', { type: 'button', className: 'primary', id: 'detail-retry', text: 'Retry', onclick: () => void retryMedia(m, notice) })
  // The fix sits beside the retry button when retrying waits for it, below the advice otherwise.
  const advice =
    !f ? null
    : f.retry === 'helps' ? el('div', { className: 'advice' }, retry, el('strong', { text: 'Retrying can help.' }))
    : f.retry === 'after_fix' ? el('div', { className: 'advice' }, retry, el('span', { className: 'fix' }, el('strong', { text: 'Fix first: ' }), f.fix || 'see the error below'))
    : el('p', { className: 'advice' }, el('strong', { text: 'Retrying will not help.' }))
  const fix = f && f.retry !== 'after_fix' && f.fix ? el('p', { className: 'fix', text: f.fix }) : null
  return el(
    'section',
    { className: 'failure', id: 'detail-failure', role: 'alert', 'data-retry': f?.retry ?? '' },
    el('h3', {}, el('span', { className: 'code', text: m.error.code }), ' ', f?.summary || m.error.message),
    advice,
    fix,
    el('p', { className: 'error-message', text: m.error.message }),
  )
}

/** The fields a person reads, in words; every other field is in the raw JSON below them. */
function fields(m: MediaJson): HTMLElement {
  const rows: [string, string, Node | string | null][] = [
    ['status', 'status', el('span', { className: `badge status status-${m.status}`, text: m.status })],
    ['sender', 'sender_id', senderOf(m) + (m.sender_user_id && m.sender_user_id !== m.sender_id ? ` (BSUID ${m.sender_user_id})` : '')],
    ['platform', 'platform', platformName(m.platform)],
    ['account', 'account_id', m.account_id],
    ['kind', 'kind', m.voice ? `${m.kind} (voice note)` : m.kind],
    ['caption', 'caption', m.caption],
    ['filename', 'filename', m.filename],
    ['type', 'mime_type', m.mime_type],
    ['size', 'size', m.size !== null ? formatBytes(m.size) : null],
    ['pixels', 'width', m.width && m.height ? `${m.width} × ${m.height}` : null],
    ['duration', 'duration_ms', m.duration_ms ? `${(m.duration_ms / 1000).toFixed(1)} s` : null],
    ['received', 'received_at', timeEl(m.received_at)],
    ['stored', 'stored_at', m.stored_at ? timeEl(m.stored_at) : null],
    ['message id', 'message_id', m.message_id],
    ['sha256', 'sha256', m.sha256],
    ['hash check', 'hash-check', hashCheck(m)],
    ['type check', 'type-check', typeCheck(m)],
    // A failed media's error is in the summary above the fields.
    ['error', 'error.code', m.error && !(m.status === 'failed' && m.failure) ? `${m.error.code}: ${m.error.message}` : null],
    ['attempts', 'attempts', m.attempts ? String(m.attempts) : null],
    ['malware scan', 'scan.status', m.scan ? m.scan.status + (m.scan.engine ? ` (${m.scan.engine})` : '') : null],
    ['signature', 'scan.signature', m.scan?.signature ?? null],
  ]
  return el(
    'dl',
    { className: 'fields', id: 'detail-fields' },
    rows.filter(([, , value]) => value !== null && value !== '').flatMap(([label, key, value]) => [el('dt', { text: label }), el('dd', { 'data-field': key, id: key.endsWith('-check') ? `detail-${key}` : undefined }, value)]),
  )
}

function rawJson(m: MediaJson): HTMLElement {
  return el('details', { className: 'raw', id: 'detail-raw' }, el('summary', { text: 'Raw JSON' }), el('pre', { id: 'detail-json', text: JSON.stringify(m, null, 2) }))
}

function render(m: MediaJson): void {
  const notice = el('p', { className: 'notice', id: 'detail-notice', role: 'status' })
  const actions = el('div', { className: 'actions' })
  const infected = m.status === 'failed' && m.error?.code === 'infected'
  // Retrying is offered as the main action only where it can help; elsewhere it stays possible.
  if (m.status === 'failed' && !infected && m.failure?.retry !== 'helps' && m.failure?.retry !== 'after_fix') {
    actions.append(el('button', { type: 'button', id: 'detail-retry-anyway', text: 'Retry anyway', onclick: () => void retryMedia(m, notice) }))
  }
  if (infected) actions.append(el('button', { type: 'button', id: 'detail-release', text: 'Release (false positive)', onclick: () => void release(m, notice) }))
  // Remote media (storage policy lazy or proxy) are served too, straight from Meta.
  const servable = m.status === 'stored' || m.status === 'remote'
  if (servable) actions.append(el('a', { id: 'detail-download', href: contentUrl(m.id), download: m.filename || m.id, text: 'Download' }))
  if (hasFeature('links') && servable) actions.append(el('button', { type: 'button', id: 'detail-link', text: 'Copy signed link', onclick: () => void copyLink(m, notice) }))
  if (hasFeature('delete') && m.status !== 'deleted') {
    actions.append(el('button', { type: 'button', className: 'danger', id: 'detail-delete', text: 'Delete', onclick: () => void remove(m, notice) }))
  }

  // Infected media say so first: the signature, and that the bytes are in quarantine.
  const warning = infected
    ? el('p', { className: 'infected', id: 'detail-infected', role: 'alert', text: `Infected: ${m.scan?.signature || 'unknown signature'}. The bytes are quarantined and never served; release them only after review.` })
    : null
  const handles = el('section', { className: 'handles', id: 'detail-handles' })
  dialog().replaceChildren(
    header(m, m.id),
    el(
      'div',
      { className: 'body' },
      el('div', {}, preview(m, undefined, true), actions, notice, handles),
      el('div', {}, warning, failureSummary(m, notice), fields(m), rawJson(m)),
    ),
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
      el('li', { 'data-platform': h.platform, text: `${h.platform} ${h.account_id}: ${h.handle} (${h.variant === 'original' ? h.mime_type : `converted to ${h.mime_type}`}, valid until ${formatTime(h.expires_at)})` }),
    )
    section.replaceChildren(el('h3', { text: 'Handles at Meta' }), items.length > 0 ? el('ul', {}, ...items) : el('p', { text: 'Not uploaded to Meta.' }))
  } catch (err) {
    section.replaceChildren(el('p', { className: 'error', text: `Handles: ${errorMessage(err)}` }))
  }
}

async function retryMedia(m: MediaJson, notice: HTMLElement): Promise<void> {
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
      notice.append(el('span', { text: `Copied${link?.expires_at ? `; valid until ${formatTime(link.expires_at)}` : ''}.` }))
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
