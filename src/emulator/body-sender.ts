/**
 * Streams a media body (whole or one byte range) with backpressure, counting bytes, and plays
 * the mid-body faults: a clean close (truncate), a TCP reset, or a stall.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import parseRange from 'range-parser'
import { CHUNK_BYTES } from './byte-source.js'
import type { EmulatorContext } from './context.js'
import type { FaultSpec } from './faults.js'
import { sendText, waitUnlessClosed } from './http-util.js'
import type { StoredMedia } from './media-store.js'

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.once('drain', done)
    res.once('close', done)
  })
}

/** Writes and resolves once the chunk reached the socket (or the client left). */
function writeFlushed(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('close', done)
      resolve()
    }
    res.once('close', done)
    res.write(chunk, done)
  })
}

/**
 * Answers a download: 200 with the whole body, 206 for one satisfiable range, 416 for an
 * unsatisfiable one. Several ranges are answered with the whole body, which RFC 9110 allows.
 */
export async function sendMedia(
  ctx: EmulatorContext,
  req: { method?: string | undefined; headers: { range?: string | undefined } },
  res: ServerResponse,
  media: StoredMedia,
  fault: Readonly<FaultSpec> | undefined,
  extraHeaders: OutgoingHttpHeaders = {},
): Promise<void> {
  const size = media.size
  let start = 0
  let end = size - 1
  let status = 200
  const headers: OutgoingHttpHeaders = { 'content-type': media.mimeType, 'accept-ranges': 'bytes', ...extraHeaders }
  if (req.headers.range !== undefined) {
    const ranges = parseRange(size, req.headers.range, { combine: true })
    if (ranges === -1) return sendText(res, 416, 'Requested Range Not Satisfiable', { 'content-range': `bytes */${size}` })
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
      start = ranges[0]!.start
      end = ranges[0]!.end
      status = 206
      headers['content-range'] = `bytes ${start}-${end}/${size}`
    }
  }
  const total = end - start + 1
  headers['content-length'] = total
  if (req.method === 'HEAD') {
    res.writeHead(status, headers)
    res.end()
    return
  }

  const breaks = fault?.truncate === true || fault?.resetMidBody === true
  const cut = fault && (breaks || fault.stallMs) ? Math.min(total, Math.floor(fault.atByte ?? total / 2)) : -1
  ctx.stats.downloadStarted(media.id)
  res.writeHead(status, headers)
  const cursor = media.source.open(start)
  let sent = 0
  for (;;) {
    if (res.destroyed) return
    if (sent === cut) {
      if (breaks) {
        if (sent === 0) res.flushHeaders()
        // Give the client a moment to read what was sent, so it sees the failure mid-body.
        await waitUnlessClosed(res, 15)
        if (fault?.resetMidBody) res.socket?.resetAndDestroy()
        else res.socket?.end()
        return
      }
      if (sent === 0) res.flushHeaders()
      await waitUnlessClosed(res, fault?.stallMs ?? 0)
      if (res.destroyed) return
    }
    if (sent === total) break
    let n = Math.min(CHUNK_BYTES, total - sent)
    if (sent < cut) n = Math.min(n, cut - sent)
    const chunk = cursor.read(n)
    sent += n
    ctx.stats.bytes(media.id, n)
    if (breaks && sent === cut) await writeFlushed(res, chunk)
    else if (!res.write(chunk)) await drainOrClose(res)
  }
  res.end(() => ctx.stats.downloadCompleted(media.id))
}
