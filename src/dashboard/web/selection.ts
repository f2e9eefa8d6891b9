/**
 * Which cards the operator picked for a bulk action: single ids (checkboxes, shift-click for a
 * range), or every media matching the current filters, counted by the server.
 */
import { emit } from './events.js'

const picked = new Set<string>()
let anchor: string | null = null
let everyMatch = false

export const isPicked = (id: string) => everyMatch || picked.has(id)
export const pickedIds = () => [...picked]
export const pickedCount = () => picked.size
/** "All N matching this filter" was chosen: the action goes by filter, not by ids. */
export const allMatching = () => everyMatch

/**
 * A checkbox click. With shift, every card between the last click and this one (in the order
 * shown) takes this one's state, as in a mail client.
 */
export function pick(id: string, on: boolean, range: boolean, order: readonly string[]): void {
  everyMatch = false
  const from = anchor === null ? -1 : order.indexOf(anchor)
  const to = order.indexOf(id)
  if (range && from >= 0 && to >= 0) {
    for (let i = Math.min(from, to); i <= Math.max(from, to); i++) set(order[i]!, on)
  } else {
    set(id, on)
  }
  anchor = id
  emit('mediagate:selection-changed', null)
}

function set(id: string, on: boolean): void {
  if (on) picked.add(id)
  else picked.delete(id)
}

export function pickAllMatching(): void {
  everyMatch = true
  emit('mediagate:selection-changed', null)
}

export function clearPicks(): void {
  if (picked.size === 0 && !everyMatch) return
  picked.clear()
  anchor = null
  everyMatch = false
  emit('mediagate:selection-changed', null)
}

/** A card left the list (deleted): it cannot stay picked. */
export function unpick(id: string): void {
  if (picked.delete(id)) emit('mediagate:selection-changed', null)
}
