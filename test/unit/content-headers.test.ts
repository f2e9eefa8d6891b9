import { describe, expect, it } from 'vitest'
import { resolveRange } from '../../src/serve/byte-range.js'
import { contentDisposition, isInlineSafe, safeFilename } from '../../src/serve/content-headers.js'

describe('safeFilename', () => {
  const hostile = ['../../etc/passwd', '..\\..\\boot.ini', '/abs/path.pdf', 'a\u0000b.pdf', 'new\nline.pdf', 'CON:', '...', '  ', '\u202egnp.exe', 'x"; y=z.pdf']
  it.each(hostile)('neutralizes %j', (name) => {
    const safe = safeFilename(name, 'fallback')
    expect(safe).not.toMatch(/[\\/\u0000-\u001f"]/)
    expect(safe.startsWith('.')).toBe(false)
    expect(safe.length).toBeGreaterThan(0)
  })
  it('keeps ordinary and non-ASCII names', () => {
    expect(safeFilename('Invoice 2026.pdf', 'f')).toBe('Invoice 2026.pdf')
    expect(safeFilename('résumé.pdf', 'f')).toBe('résumé.pdf')
    expect(safeFilename(null, 'med_1.jpg')).toBe('med_1.jpg')
  })
  it('quotes safely in Content-Disposition, with a UTF-8 form', () => {
    expect(contentDisposition('attachment', 'résumé "final".pdf')).toBe(
      `attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    )
  })
})

describe('isInlineSafe', () => {
  it('allows images, audio and video only when the bytes agree', () => {
    expect(isInlineSafe('image/jpeg', 'image/jpeg')).toBe(true)
    expect(isInlineSafe('audio/ogg; codecs=opus', 'audio/ogg')).toBe(true)
    expect(isInlineSafe('image/jpeg', null)).toBe(false)
    expect(isInlineSafe('image/jpeg', 'application/pdf')).toBe(false)
    expect(isInlineSafe('image/png', 'video/mp4')).toBe(false)
  })
  it('never inlines HTML, SVG, PDF or unknown types', () => {
    for (const t of ['text/html', 'image/svg+xml', 'application/pdf', 'application/octet-stream', 'text/plain']) expect(isInlineSafe(t, t)).toBe(false)
  })
})

describe('resolveRange', () => {
  it('parses the forms clients send', () => {
    expect(resolveRange('bytes=0-0', 10)).toEqual({ kind: 'range', range: { start: 0, end: 0 } })
    expect(resolveRange('bytes=5-', 10)).toEqual({ kind: 'range', range: { start: 5, end: 9 } })
    expect(resolveRange('bytes=-3', 10)).toEqual({ kind: 'range', range: { start: 7, end: 9 } })
    expect(resolveRange('bytes=2-100', 10)).toEqual({ kind: 'range', range: { start: 2, end: 9 } })
  })
  it('answers unsatisfiable and ignores malformed headers', () => {
    expect(resolveRange('bytes=20-30', 10)).toEqual({ kind: 'unsatisfiable' })
    expect(resolveRange('bytes=abc', 10)).toEqual({ kind: 'none' })
    expect(resolveRange('items=0-1', 10)).toEqual({ kind: 'none' })
    expect(resolveRange(undefined, 10)).toEqual({ kind: 'none' })
  })
})
