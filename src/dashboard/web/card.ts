/** One media as a card in the gallery: who sent what, where and when, and a look at it. */
import { el, formatBytes, timeEl } from './dom.js'
import { preview } from './preview.js'
import type { MediaJson } from './types.js'

const PLATFORM_NAMES: Readonly<Record<string, string>> = { whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram' }

export const platformName = (p: string) => PLATFORM_NAMES[p] ?? p

/** Who sent it: the name where known, else the phone number, BSUID, PSID or IGSID. */
export function senderOf(m: MediaJson): string {
  if (m.direction === 'outbound') return 'Uploaded by you'
  return m.sender_name || m.sender_id || m.sender_user_id || 'Unknown sender'
}

/** What it is: the caption or filename, else its kind in words. */
export function subjectOf(m: MediaJson): string {
  if (m.caption) return m.caption
  if (m.filename) return m.filename
  if (m.voice) return 'Voice note'
  return m.kind.charAt(0).toUpperCase() + m.kind.slice(1).replaceAll('_', ' ')
}

export interface CardHandlers {
  open(id: string): void
  /** The checkbox was clicked; `range` when shift was held. */
  select(id: string, checked: boolean, range: boolean): void
}

export function card(m: MediaJson, selected: boolean, on: CardHandlers): HTMLLIElement {
  const open = () => on.open(m.id)
  const box = el('input', { type: 'checkbox', className: 'pick', 'aria-label': `select ${subjectOf(m)} from ${senderOf(m)}` })
  box.checked = selected
  box.addEventListener('click', (ev) => on.select(m.id, box.checked, ev.shiftKey))
  return el(
    'li',
    { className: `card${selected ? ' selected' : ''}`, 'data-id': m.id, 'data-status': m.status, 'data-kind': m.kind, 'data-platform': m.platform },
    el('div', { className: 'card-top' }, box, preview(m, open)),
    el(
      'div',
      { className: 'meta' },
      el('button', { type: 'button', className: 'title', title: 'Details', onclick: open }, el('span', { className: 'sender', text: senderOf(m) }), el('span', { className: 'subject', text: subjectOf(m) })),
      el(
        'div',
        { className: 'line' },
        el('span', { className: `badge status status-${m.status}`, text: m.status }),
        el('span', { className: `badge platform platform-${m.platform}`, text: platformName(m.platform) }),
        m.voice ? el('span', { className: 'badge voice-marker', title: 'voice note (voice: true)', text: 'voice' }) : el('span', { className: 'badge', text: m.kind }),
      ),
      el('div', { className: 'when' }, timeEl(m.received_at), m.size !== null ? ` · ${formatBytes(m.size)}` : ''),
      el('div', { className: 'account', title: `account ${m.account_id}`, text: `account ${m.account_id}` }),
      m.error ? el('div', { className: 'error', text: m.error.code === 'infected' ? `infected: ${m.scan?.signature || 'unknown signature'}` : m.error.code }) : null,
    ),
  )
}
