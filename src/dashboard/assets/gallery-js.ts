/** Browser module `gallery.js`: the filtered, paged list of recent media. */
export const GALLERY_JS = String.raw`
import { api, mediaUrl } from './api.js';
import { openDetail } from './detail.js';
import { $, el, formatBytes, formatTime } from './dom.js';
import { preview } from './preview.js';

const PAGE = 24;
const MAX_LIVE_UPDATES = 48;
let cursor = null;
// Answers to a query that was replaced meanwhile (the filters changed) are dropped.
let generation = 0;

function query() {
  const form = $('filters');
  const params = new URLSearchParams();
  for (const name of ['platform', 'status', 'kind', 'account_id', 'message_id']) {
    const value = form.elements.namedItem(name).value.trim();
    if (value) params.set(name, value);
  }
  for (const name of ['received_after', 'received_before']) {
    const value = form.elements.namedItem(name).value;
    const date = value ? new Date(value) : null;
    if (date && !Number.isNaN(date.getTime())) params.set(name, date.toISOString());
  }
  params.set('limit', String(PAGE));
  return params;
}

export function card(m) {
  const open = () => openDetail(m.id);
  return el('li', { className: 'card', 'data-id': m.id, 'data-status': m.status, 'data-kind': m.kind, 'data-platform': m.platform },
    preview(m, open),
    el('div', { className: 'meta' },
      el('div', { className: 'line' },
        el('span', { className: 'badge status status-' + m.status, text: m.status }),
        el('span', { className: 'badge', text: m.platform }),
        el('span', { className: 'badge', text: m.kind })),
      el('div', { className: 'name', text: m.filename || m.caption || m.message_id }),
      el('div', { className: 'when', text: formatTime(m.received_at) + (m.size !== null ? ' · ' + formatBytes(m.size) : '') }),
      m.error ? el('div', { className: 'error', text: m.error.code }) : null,
      el('div', { className: 'line' }, el('button', { type: 'button', className: 'details', text: 'Details', onclick: open }))));
}

export async function reloadGallery() {
  cursor = null;
  $('gallery').replaceChildren();
  $('load-more').hidden = true;
  await loadPage(++generation);
}

async function loadPage(gen) {
  const params = query();
  if (cursor) params.set('cursor', cursor);
  const errorBox = $('list-error');
  try {
    const page = await api('/v1/media?' + params.toString());
    if (gen !== generation) return;
    errorBox.hidden = true;
    const list = $('gallery');
    for (const m of page.data) list.append(card(m));
    cursor = page.next_cursor;
    $('load-more').hidden = !cursor;
    $('empty').hidden = list.children.length > 0;
  } catch (err) {
    if (gen !== generation) return;
    errorBox.textContent = err.message;
    errorBox.hidden = false;
  }
}

function replaceCard(m) {
  for (const li of $('gallery').querySelectorAll('li.card')) {
    if (li.dataset.id === m.id) li.replaceWith(card(m));
  }
}

function removeCard(id) {
  for (const li of $('gallery').querySelectorAll('li.card')) {
    if (li.dataset.id === id) li.remove();
  }
}

/** Pending media on screen are looked at again, so captures show up as they settle. */
export async function refreshPendingCards() {
  const pending = [...$('gallery').querySelectorAll('li.card[data-status="pending"]')].slice(0, MAX_LIVE_UPDATES);
  for (const li of pending) {
    try {
      const m = await api(mediaUrl(li.dataset.id));
      if (m.status !== 'pending') replaceCard(m);
    } catch {
      // Next round.
    }
  }
}

export function initGallery() {
  const form = $('filters');
  form.addEventListener('submit', (ev) => { ev.preventDefault(); reloadGallery(); });
  form.addEventListener('change', (ev) => { if (ev.target.tagName === 'SELECT') reloadGallery(); });
  form.addEventListener('reset', () => setTimeout(reloadGallery, 0));
  $('load-more').addEventListener('click', () => loadPage(generation));
  window.addEventListener('mediagate:media-changed', (ev) => replaceCard(ev.detail));
  window.addEventListener('mediagate:media-removed', (ev) => removeCard(ev.detail));
}
`
