/** The streaming `file` field reader of POST /v1/media: split anywhere, other fields skipped. */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { multipartFile } from '../../src/outbound/multipart-file.js'

function body(boundary: string, file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
}

describe('multipartFile', () => {
  it.each([1, 7, 64, 100_000])('streams the file part whatever the chunking (%i-byte chunks)', async (size) => {
    const file = randomBytes(20_000)
    const all = body('XyZ', file)
    const chunks: Buffer[] = []
    for (let i = 0; i < all.length; i += size) chunks.push(all.subarray(i, i + size))
    const parsed = multipartFile(Readable.from(chunks), 'XyZ')
    expect(await parsed.headers).toEqual({ filename: 'a.pdf', contentType: 'application/pdf' })
    const out: Buffer[] = []
    for await (const c of parsed.body) out.push(c as Buffer)
    expect(Buffer.concat(out).equals(file)).toBe(true)
  })
})

describe('multipartFile on what fetch sends', () => {
  it('reads a FormData body as undici serializes it', async () => {
    const file = randomBytes(50_000)
    const form = new FormData()
    form.set('note', 'ignored')
    form.set('file', new Blob([file], { type: 'application/pdf' }), 'report.pdf')
    const res = new Response(form)
    const boundary = /boundary=(.+)$/.exec(res.headers.get('content-type')!)![1]!
    const parsed = multipartFile(Readable.from([Buffer.from(await res.arrayBuffer())]), boundary)
    expect(await parsed.headers).toEqual({ filename: 'report.pdf', contentType: 'application/pdf' })
    const out: Buffer[] = []
    for await (const c of parsed.body) out.push(c as Buffer)
    expect(Buffer.concat(out).equals(file)).toBe(true)
  })
})

describe('multipartFile without a file', () => {
  it('fails with bad_request once the body ends', async () => {
    const all = Buffer.from('--B\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--B--\r\n')
    const parsed = multipartFile(Readable.from([all]), 'B')
    parsed.body.resume()
    await expect(parsed.headers).rejects.toMatchObject({ code: 'bad_request' })
  })
})
