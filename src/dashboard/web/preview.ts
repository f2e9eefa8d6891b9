/** What a media looks like in a card or the detail view. */
import { contentUrl } from './api.js'
import { el, formatBytes } from './dom.js'
import type { MediaJson } from './types.js'

export type PreviewKind = 'image' | 'video' | 'audio' | 'none'

// Text badges rather than emoji: servers and kiosks often lack an emoji font.
const BADGES: Readonly<Record<string, string>> = { image: 'IMG', video: 'VID', audio: 'AUD', document: 'DOC', sticker: 'STK', story: 'STORY', share: 'SHARE', unknown: '?' }

function badge(m: MediaJson): string {
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(m.filename || '')?.[1]
  return ext ? ext.toUpperCase() : BADGES[m.kind] || '?'
}

const typeIs = (m: MediaJson, prefix: string) => (m.mime_type || '').toLowerCase().startsWith(prefix)

export function previewKind(m: MediaJson): PreviewKind {
  if (m.status !== 'stored') return 'none'
  if (m.kind === 'document') return 'none'
  if (m.kind === 'image' || m.kind === 'sticker' || typeIs(m, 'image/')) return 'image'
  if (m.kind === 'video' || typeIs(m, 'video/')) return 'video'
  if (m.kind === 'audio' || typeIs(m, 'audio/')) return 'audio'
  return 'none'
}

export function displayName(m: MediaJson): string {
  return m.filename || m.caption || m.kind
}

/** The player or picture for a stored media, else a badge with its name and size; a click on a picture calls onOpen. */
export function preview(m: MediaJson, onOpen?: () => void): HTMLDivElement {
  const src = contentUrl(m.id)
  const kind = previewKind(m)
  let inner: HTMLElement
  if (kind === 'image') {
    inner = el('img', { src, alt: displayName(m), loading: 'lazy', decoding: 'async' })
    if (onOpen) inner.addEventListener('click', onOpen)
  } else if (kind === 'video') {
    inner = el('video', { src, controls: true, preload: 'metadata' })
  } else if (kind === 'audio') {
    inner = el('audio', { src, controls: true, preload: 'none' })
  } else {
    inner = el(
      'div',
      { className: 'placeholder' },
      el('span', { className: 'icon', 'aria-hidden': 'true', text: badge(m) }),
      el('span', { className: 'name', text: m.filename || m.kind }),
      el('span', { text: m.size !== null && m.size !== undefined ? formatBytes(m.size) : m.status }),
    )
  }
  return el('div', { className: `preview preview-${kind}` }, inner)
}
