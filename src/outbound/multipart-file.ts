/**
 * The `file` field of a `multipart/form-data` upload, as a stream: parts before it are skipped,
 * its bytes flow on as they arrive (never buffered whole), and the stream ends at its boundary.
 * Only what `POST /v1/media` needs; a body without a `file` part fails with `bad_request`.
 */
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { MediagateError } from '../errors.js'
import { pipe } from '../util/pipe.js'

/** Headers of one part: at most this many bytes. */
const MAX_HEADER_BYTES = 16 * 1024

export interface MultipartFile {
  body: Readable
  /** Resolves once the `file` part's headers were read. */
  headers: Promise<{ filename: string | null; contentType: string | null }>
}

export function boundaryOf(contentType: string): string {
  const match = /boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType)
  if (!match) throw new MediagateError('bad_request', 'multipart/form-data without a boundary')
  return (match[1] ?? match[2])!
}

export function multipartFile(source: Readable, boundary: string): MultipartFile {
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  let buffer: Buffer = Buffer.from("\r\n") // the first delimiter has no CRLF before it
  let found = false
  let state: 'preamble' | 'headers' | 'skip' | 'file' | 'done' = 'preamble'
  let resolveHeaders!: (h: { filename: string | null; contentType: string | null }) => void
  let rejectHeaders!: (e: Error) => void
  const headers = new Promise<{ filename: string | null; contentType: string | null }>((resolve, reject) => {
    resolveHeaders = resolve
    rejectHeaders = reject
  })
  headers.catch(() => {})
  const out = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
      // Bounded: each round consumes bytes or waits for more.
      for (let round = 0; round < 10_000; round++) {
        if (state === 'done') {
          buffer = Buffer.alloc(0)
          break
        }
        if (state === 'headers') {
          const end = buffer.indexOf('\r\n\r\n')
          if (end === -1) {
            if (buffer.length > MAX_HEADER_BYTES) return done(new MediagateError('bad_request', 'a multipart part has oversized headers'))
            break
          }
          const text = buffer.subarray(0, end).toString('utf8')
          buffer = buffer.subarray(end + 4)
          const name = /name="([^"]*)"/i.exec(text)?.[1]
          if (name === 'file') {
            state = 'file'
            found = true
            resolveHeaders({ filename: /filename="([^"]*)"/i.exec(text)?.[1] ?? null, contentType: /^content-type:\s*(.+)$/im.exec(text)?.[1]?.trim() ?? null })
          } else state = 'skip'
          continue
        }
        const at = buffer.indexOf(delimiter)
        if (at === -1) {
          // Keep what could be the start of a delimiter; the rest is body (or skipped).
          const keep = Math.min(buffer.length, delimiter.length - 1)
          if (state === 'file') this.push(buffer.subarray(0, buffer.length - keep))
          buffer = buffer.subarray(buffer.length - keep)
          break
        }
        if (state === 'file') {
          this.push(buffer.subarray(0, at))
          state = 'done'
          continue
        }
        // After a delimiter: `--` ends the body, CRLF starts the next part's headers.
        const after = buffer.subarray(at + delimiter.length, at + delimiter.length + 2)
        if (after.length < 2) break
        if (after.toString() === '--') {
          state = 'done'
          continue
        }
        buffer = buffer.subarray(at + delimiter.length + 2)
        state = 'headers'
      }
      done()
    },
    flush(done: TransformCallback) {
      if (!found) {
        const err = new MediagateError('bad_request', 'the multipart body has no "file" field')
        rejectHeaders(err)
        return done(err)
      }
      if (state !== 'done') {
        const err = new MediagateError('bad_request', state === 'file' ? 'the multipart body ended inside the file' : 'the multipart body has no "file" field')
        rejectHeaders(err)
        return done(err)
      }
      done()
    },
  })
  pipe([source, out], (err) => {
    if (err) rejectHeaders(err)
  })
  return { body: out, headers }
}
