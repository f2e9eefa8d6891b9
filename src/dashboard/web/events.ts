/** The page's own events, dispatched on window so that modules need not import each other. */
import type { MediaJson } from './types.js'

interface PageEvents {
  /** The API answered 401: the session is gone. */
  'mediagate:signed-out': null
  /** A media changed (retried, settled): its new record. */
  'mediagate:media-changed': MediaJson
  /** A media was deleted: its id. */
  'mediagate:media-removed': string
  /** Cards were picked or unpicked for a bulk action. */
  'mediagate:selection-changed': null
  /** The gallery was loaded afresh (new filters, or the new media were shown). */
  'mediagate:list-reloaded': null
}

export function emit<K extends keyof PageEvents>(name: K, detail: PageEvents[K]): void {
  window.dispatchEvent(new CustomEvent(name, { detail }))
}

export function on<K extends keyof PageEvents>(name: K, handler: (detail: PageEvents[K]) => void): void {
  // Only emit() dispatches these names, always as a CustomEvent carrying PageEvents[K].
  window.addEventListener(name, (ev) => handler((ev as CustomEvent<PageEvents[K]>).detail))
}
