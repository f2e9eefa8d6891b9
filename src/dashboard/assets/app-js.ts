/** Browser module `app.js`: the entry point; signs in and out and keeps the page live. */
export const APP_JS = String.raw`
import { api } from './api.js';
import { closeDetail, initDetail, setFeatures } from './detail.js';
import { $, formatAge } from './dom.js';
import { initGallery, refreshPendingCards, reloadGallery } from './gallery.js';

const POLL_MS = 5000;
let pollTimer = null;

async function refreshStats() {
  try {
    const s = await api('/v1/stats');
    let pending = 0;
    for (const c of s.counts) if (c.status === 'pending') pending += c.count;
    $('stat-pending').textContent = String(pending);
    $('stat-stored').textContent = String(s.last_hour.stored);
    $('stat-failed').textContent = String(s.last_hour.failed);
    $('stat-failed').title = s.last_hour.failed_by_code.map((f) => f.code + ': ' + f.count).join(', ');
    $('stat-rate').textContent = String(s.capture_rate_per_min);
    $('stat-oldest').textContent = s.oldest_pending_at ? formatAge(Date.now() - Date.parse(s.oldest_pending_at)) : '—';
    $('stats').hidden = false;
  } catch {
    // The last figures stay; a 401 signs the page out through the api module.
  }
}

function tick() {
  refreshStats();
  refreshPendingCards();
}

function showSignIn() {
  clearInterval(pollTimer);
  pollTimer = null;
  closeDetail();
  $('media').hidden = true;
  $('stats').hidden = true;
  $('logout-form').hidden = true;
  $('gallery').replaceChildren();
  $('signin').hidden = false;
  $('api-key').focus();
}

function showApp(session) {
  setFeatures(session.features);
  $('signin').hidden = true;
  $('signin-error').hidden = true;
  $('media').hidden = false;
  $('logout-form').hidden = false;
  clearInterval(pollTimer);
  pollTimer = setInterval(tick, POLL_MS);
  refreshStats();
  reloadGallery();
}

async function signIn(ev) {
  ev.preventDefault();
  const input = $('api-key');
  try {
    await api('/dashboard/session', { method: 'POST', json: { api_key: input.value }, quiet: true });
    input.value = '';
    showApp(await api('/dashboard/session'));
  } catch {
    $('signin-error').hidden = false;
  }
}

async function signOut(ev) {
  ev.preventDefault();
  try {
    await api('/dashboard/logout', { method: 'POST' });
  } finally {
    showSignIn();
  }
}

async function boot() {
  $('signin-form').addEventListener('submit', signIn);
  $('logout-form').addEventListener('submit', signOut);
  window.addEventListener('mediagate:signed-out', showSignIn);
  initGallery();
  initDetail();
  const params = new URLSearchParams(location.search);
  if (params.get('signin') === 'failed') {
    $('signin-error').hidden = false;
    history.replaceState(null, '', '/');
  }
  let session = { signed_in: false };
  try {
    session = await api('/dashboard/session');
  } catch {
    // Shown as signed out.
  }
  if (session.signed_in) showApp(session);
  else showSignIn();
}

boot();
`
