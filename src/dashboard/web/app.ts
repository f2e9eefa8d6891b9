/** The entry point: signs in and out, and keeps the page live while signed in. */
import { api, ApiError } from './api.js'
import { closeDetail, initDetail, setFeatures } from './detail.js'
import { $, formatAge } from './dom.js'
import { on } from './events.js'
import { initGallery, refreshPendingCards, reloadGallery } from './gallery.js'
import type { Session, StatsJson } from './types.js'

const POLL_MS = 5000
let pollTimer: number | undefined

async function refreshStats(): Promise<void> {
  try {
    const s = await api<StatsJson>('/v1/stats')
    let pending = 0
    for (const c of s.counts) if (c.status === 'pending') pending += c.count
    $('stat-pending').textContent = String(pending)
    $('stat-stored').textContent = String(s.last_hour.stored)
    $('stat-failed').textContent = String(s.last_hour.failed)
    $('stat-failed').title = s.last_hour.failed_by_code.map((f) => `${f.code}: ${f.count}`).join(', ')
    $('stat-rate').textContent = String(s.capture_rate_per_min)
    $('stat-oldest').textContent = s.oldest_pending_at ? formatAge(Date.now() - Date.parse(s.oldest_pending_at)) : '—'
    // Meta stops serving these soon: capture is behind, or failing for them.
    const near = s.near_deadline.count
    $('deadline-warning').textContent = near > 0 ? `${near} pending media within an hour of their capture deadline (earliest ${s.near_deadline.earliest ?? '?'}); Meta stops serving them after it` : ''
    $('deadline-warning').hidden = near === 0
    $('stats').hidden = false
  } catch {
    // The last figures stay; a 401 signs the page out through the api module.
  }
}

function tick(): void {
  void refreshStats()
  void refreshPendingCards()
}

function showSignIn(): void {
  clearInterval(pollTimer)
  pollTimer = undefined
  closeDetail()
  $('media').hidden = true
  $('stats').hidden = true
  $('logout-form').hidden = true
  $('gallery').replaceChildren()
  $('signin').hidden = false
  $('api-key').focus()
}

function showApp(session: Extract<Session, { signed_in: true }>): void {
  setFeatures(session.features)
  $('signin').hidden = true
  $('signin-error').hidden = true
  $('media').hidden = false
  $('logout-form').hidden = false
  clearInterval(pollTimer)
  pollTimer = setInterval(tick, POLL_MS)
  void refreshStats()
  void reloadGallery()
}

const SIGN_IN_REFUSED = 'That key was not accepted.'
/** The server refuses every sign-in from an address for a while after too many wrong keys (429). */
const SIGN_IN_THROTTLED = 'Too many failed sign-ins from this address. Wait a minute, then try again.'

function showSignInError(text: string): void {
  $('signin-error').textContent = text
  $('signin-error').hidden = false
}

async function signIn(ev: Event): Promise<void> {
  ev.preventDefault()
  const input = $('api-key', HTMLInputElement)
  try {
    await api<unknown>('/dashboard/session', { method: 'POST', json: { api_key: input.value }, quiet: true })
    input.value = ''
    const session = await api<Session>('/dashboard/session')
    // Signed in a moment ago; signed out again only if the cookie was refused.
    if (session.signed_in) showApp(session)
    else showSignIn()
  } catch (err) {
    showSignInError(err instanceof ApiError && err.status === 429 ? SIGN_IN_THROTTLED : SIGN_IN_REFUSED)
  }
}

async function signOut(ev: Event): Promise<void> {
  ev.preventDefault()
  try {
    await api<unknown>('/dashboard/logout', { method: 'POST' })
  } finally {
    showSignIn()
  }
}

async function boot(): Promise<void> {
  $('signin-form').addEventListener('submit', (ev) => void signIn(ev))
  $('logout-form').addEventListener('submit', (ev) => void signOut(ev))
  on('mediagate:signed-out', showSignIn)
  initGallery()
  initDetail()
  const params = new URLSearchParams(location.search)
  const refused = params.get('signin')
  if (refused === 'failed' || refused === 'throttled') {
    showSignInError(refused === 'throttled' ? SIGN_IN_THROTTLED : SIGN_IN_REFUSED)
    history.replaceState(null, '', '/')
  }
  let session: Session = { signed_in: false }
  try {
    session = await api<Session>('/dashboard/session')
  } catch {
    // Shown as signed out.
  }
  if (session.signed_in) showApp(session)
  else showSignIn()
}

void boot()
