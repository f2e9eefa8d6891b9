/** The entry point: signs in and out, and keeps the page live while signed in. */
import { api, ApiError } from './api.js'
import { initBulk } from './bulk.js'
import { closeDetail, initDetail } from './detail.js'
import { $ } from './dom.js'
import { on } from './events.js'
import { setFeatures } from './features.js'
import { filtersFromUrl, searchOf } from './filters.js'
import { checkForNew, initGallery, refreshPendingCards, reloadGallery } from './gallery.js'
import { hideStats, initStats, refreshStats } from './stats.js'
import type { Session } from './types.js'

const POLL_MS = 5000
let pollTimer: number | undefined

function tick(): void {
  void refreshStats()
  void refreshPendingCards()
  void checkForNew()
}

function showSignIn(): void {
  clearInterval(pollTimer)
  pollTimer = undefined
  closeDetail()
  $('media').hidden = true
  hideStats()
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
  // Back at the tab: the figures and the "new" bar are brought up to date at once.
  window.addEventListener('focus', () => {
    if (pollTimer !== undefined) tick()
  })
  initStats()
  initGallery()
  initBulk()
  initDetail()
  const params = new URLSearchParams(location.search)
  const refused = params.get('signin')
  if (refused === 'failed' || refused === 'throttled') {
    showSignInError(refused === 'throttled' ? SIGN_IN_THROTTLED : SIGN_IN_REFUSED)
    history.replaceState(null, '', `/${searchOf(filtersFromUrl())}`)
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
