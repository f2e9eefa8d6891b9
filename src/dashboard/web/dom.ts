/** Building DOM from data without ever parsing data as HTML, and the page's number formats. */

export type Child = Node | string | number | null | undefined | false | readonly Child[]
export type Props = Record<string, string | number | boolean | null | undefined | EventListener>

// Data goes into the DOM only as text nodes or attribute values, never parsed as markup.
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'text') node.textContent = String(value)
    else if (key === 'className') node.className = String(value)
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, value === true ? '' : String(value))
  }
  appendAll(node, children)
  return node
}

function appendAll(node: HTMLElement, children: readonly Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue
    if (Array.isArray(child)) appendAll(node, child as readonly Child[])
    else node.append(child instanceof Node ? child : String(child))
  }
}

/** The element with this id, checked to be of the expected type (a missing one is a bug in index.html). */
export function $(id: string): HTMLElement
export function $<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T
export function $(id: string, type: { new (): HTMLElement; prototype: HTMLElement } = HTMLElement): HTMLElement {
  const node = document.getElementById(id)
  if (!(node instanceof type)) throw new Error(`#${id} is missing from the page or is not a ${type.name}`)
  return node
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return ''
  const units = ['B', 'KB', 'MB', 'GB', 'TB'] as const
  let i = 0
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000
    i++
  }
  return `${i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${m % 60} min`
  return `${Math.floor(h / 24)} d`
}

// One way to show an instant everywhere: the viewer's local time, the UTC ISO form on hover.
const LOCAL = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : LOCAL.format(d)
}

/** `<time>` with the local time as text and the UTC ISO time as its hover title. */
export function timeEl(iso: string | null | undefined, props: Props = {}): HTMLElement {
  if (!iso) return el('span', { ...props, text: '—' })
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return el('span', { ...props, text: iso })
  return el('time', { ...props, datetime: d.toISOString(), title: `${d.toISOString()} (UTC)`, text: LOCAL.format(d) })
}
