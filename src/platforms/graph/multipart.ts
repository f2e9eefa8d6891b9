/**
 * A multipart/form-data body for Graph uploads: text fields and one file, streamed (the file may
 * be 100 MB) with its exact length known up front, so the request carries a Content-Length.
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'

export interface MultipartFile {
  field: string
  filename: string
  mimeType: string
  size: number
  /** Opens the bytes; called once per body. */
  open: () => Readable
}

export interface MultipartBody {
  contentType: string
  length: number
  body: Readable
}

/** Field values and file names go into quoted header parameters: keep them printable and unquoted. */
function quoted(value: string): string {
  return value.replace(/["\r\n\\]/g, '_')
}

export function multipartBody(fields: Record<string, string>, file: MultipartFile): MultipartBody {
  const boundary = `----mediagate${randomBytes(12).toString('hex')}`
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`)
  const head = Buffer.from(`${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="${quoted(file.field)}"; filename="${quoted(file.filename)}"\r\nContent-Type: ${quoted(file.mimeType)}\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  async function* chunks(): AsyncGenerator<Buffer> {
    yield head
    for await (const chunk of file.open()) yield chunk as Buffer
    yield tail
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, length: head.length + file.size + tail.length, body: Readable.from(chunks(), { objectMode: false }) }
}
