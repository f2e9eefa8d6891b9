/** What a media looks like in a card or the detail view. */
import { previewUrl, thumbnailUrl } from './api.js'
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
  return m.caption || m.filename || (m.voice ? 'voice note' : m.kind)
}

/**
 * The player or picture for a stored media, else a badge with its name and size; a click on a
 * picture calls onOpen. Pictures and video posters are thumbnails (the placeholder's colour
 * first); voice notes and audio play their preview, with the waveform drawn.
 */
export function preview(m: MediaJson, onOpen?: () => void, large = false): HTMLDivElement {
  const kind = previewKind(m)
  const thumb = thumbnailUrl(m.id, large ? 640 : 320)
  let inner: HTMLElement
  if (kind === 'image') {
    const img = el('img', { src: thumb, alt: displayName(m), loading: 'lazy', decoding: 'async' })
    // No thumbnail (it could not be made): a badge. Never the original: a gallery of full-size
    // pictures is megabytes per card.
    img.addEventListener('error', () => img.replaceWith(placeholder(m)), { once: true })
    if (onOpen) img.addEventListener('click', onOpen)
    inner = img
  } else if (kind === 'video') {
    // preload=none: nothing of the video is fetched until it is played; the poster is a thumbnail.
    inner = el('video', { src: previewUrl(m.id), poster: thumb, controls: true, preload: 'none' })
  } else if (kind === 'audio') {
    inner = el('div', { className: 'voice' }, waveform(m), el('audio', { src: previewUrl(m.id), controls: true, preload: 'none' }), m.duration_ms ? el('span', { className: 'duration', text: formatDuration(m.duration_ms) }) : null)
  } else {
    inner = placeholder(m)
    if (onOpen) {
      inner.classList.add('opens')
      inner.addEventListener('click', onOpen)
    }
  }
  const box = el('div', { className: `preview preview-${kind}` }, inner)
  const colour = m.placeholder ? averageColour(m.placeholder) : null
  if (colour && kind !== 'audio') box.style.backgroundColor = colour
  return box
}

function placeholder(m: MediaJson): HTMLElement {
  return el(
    'div',
    { className: 'placeholder' },
    el('span', { className: 'icon', 'aria-hidden': 'true', text: badge(m) }),
    el('span', { className: 'name', text: m.filename || m.kind }),
    el('span', { text: m.size !== null && m.size !== undefined ? formatBytes(m.size) : m.status }),
  )
}

/** The waveform as bars (nothing when it is not known). */
function waveform(m: MediaJson): HTMLElement | null {
  if (!m.waveform || m.waveform.length === 0) return null
  const bars = m.waveform.map((v) => {
    const bar = el('span', { className: 'bar' })
    bar.style.height = `${Math.max(4, Math.min(100, v))}%`
    return bar
  })
  return el('div', { className: 'waveform', 'aria-hidden': 'true' }, ...bars)
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** The average colour a ThumbHash encodes (its first three bytes), as CSS; null when it is not one. */
export function averageColour(hash: string): string | null {
  let bytes: string
  try {
    bytes = atob(hash)
  } catch {
    return null
  }
  if (bytes.length < 5) return null
  const header = bytes.charCodeAt(0) | (bytes.charCodeAt(1) << 8) | (bytes.charCodeAt(2) << 16)
  const l = (header & 63) / 63
  const p = ((header >> 6) & 63) / 31.5 - 1
  const q = ((header >> 12) & 63) / 31.5 - 1
  const b = l - (2 / 3) * p
  const r = (3 * l - b + q) / 2
  const g = r - q
  const c = (v: number) => Math.round(255 * Math.max(0, Math.min(1, v)))
  return `rgb(${c(r)}, ${c(g)}, ${c(b)})`
}
