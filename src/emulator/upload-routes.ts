/**
 * Meta's upload endpoints, with Meta's limits, types and error codes (reference §1.1, §1.5,
 * §3.4, §8): WhatsApp `POST /{ver}/{phone_number_id}/media` (multipart `messaging_product`,
 * `type`, `file`) answering `{"id"}`, resolvable by `GET /{ver}/{id}` for 30 days on the
 * emulator's clock; Messenger `POST /{ver}/{page_id}/message_attachments` (multipart `message`,
 * `filedata`; `platform=instagram` for Instagram) answering `{"attachment_id"}`. Each accepted
 * upload is counted (stats `uploads`), so tests can prove a media went to Meta once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EmulatorContext } from './context.js'
import { graphError, graphErrorForStatus } from './graph-errors.js'
import { sendJson, waitUnlessClosed } from './http-util.js'

const KB = 1024
const MB = 1024 * 1024
/** A request body larger than the largest upload Meta takes (WhatsApp documents) is refused unread. */
const MAX_BODY = 101 * MB
export const UPLOADED_MEDIA_TTL_MS = 30 * 24 * 3600_000
export const ATTACHMENT_TTL_MS = 90 * 24 * 3600_000

interface Part {
  name: string
  filename?: string
  contentType?: string
  data: Buffer
}

const WHATSAPP_TYPES: Record<string, number> = {
  'image/jpeg': 5 * MB,
  'image/png': 5 * MB,
  'audio/aac': 16 * MB,
  'audio/amr': 16 * MB,
  'audio/mpeg': 16 * MB,
  'audio/mp4': 16 * MB,
  'audio/ogg': 16 * MB,
  'video/mp4': 16 * MB,
  'video/3gpp': 16 * MB,
  'image/webp': 500 * KB,
  'text/plain': 100 * MB,
  'application/pdf': 100 * MB,
  'application/msword': 100 * MB,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 100 * MB,
  'application/vnd.ms-excel': 100 * MB,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 100 * MB,
  'application/vnd.ms-powerpoint': 100 * MB,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 100 * MB,
}

const ATTACHMENT_TYPES = ['image', 'audio', 'video', 'file'] as const

function rejected(res: ServerResponse, message: string, code = 131053): void {
  const e = graphError(code, { message: `(#${code}) ${message}` })
  sendJson(res, e.status, e.body)
}

export async function uploadRoute(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, url: URL, account: string, edge: 'media' | 'message_attachments'): Promise<void> {
  const parts = await readMultipart(req)
  const fault = ctx.faults.decide(account, 'upload')
  if (fault?.delayMs) await waitUnlessClosed(res, fault.delayMs)
  if (fault?.uploadGraphErrorCode !== undefined) {
    const e = graphError(fault.uploadGraphErrorCode, fault.uploadStatus !== undefined ? { status: fault.uploadStatus } : {})
    return sendJson(res, e.status, e.body)
  }
  if (fault?.uploadStatus !== undefined) {
    const e = graphErrorForStatus(fault.uploadStatus)
    return sendJson(res, e.status, e.body, fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {})
  }
  if (typeof parts === 'string') return rejected(res, parts, 100)
  const field = (name: string) => parts.find((p) => p.name === name && p.filename === undefined)?.data.toString('utf8')
  if (edge === 'media') {
    if (field('messaging_product') !== 'whatsapp') return rejected(res, 'The parameter messaging_product is required.', 100)
    const file = parts.find((p) => p.name === 'file' && p.filename !== undefined)
    const type = (field('type') ?? file?.contentType ?? '').split(';')[0]!.trim().toLowerCase()
    if (!file) return rejected(res, 'The parameter file is required.', 100)
    const limit = WHATSAPP_TYPES[type]
    if (limit === undefined) return rejected(res, `Media upload error: Unsupported ${type.split('/')[0]} mime type ${type}`)
    if (type === 'audio/ogg' && !file.data.subarray(0, 128).includes('OpusHead')) return rejected(res, 'Media upload error: Unsupported Audio mime type audio/ogg (only OPUS codec is supported)')
    if (type === 'image/webp' && file.data.length > 100 * KB && !file.data.includes('ANIM')) return rejected(res, 'Media upload error: static stickers are limited to 100 KB')
    if (file.data.length > limit) return rejected(res, `Media upload error: file size ${file.data.length} is larger than the ${limit / MB} MB limit for ${type}`)
    const media = ctx.store.add({ platform: 'whatsapp', mimeType: type, bytes: file.data, sha256Encoding: 'hex', fileSizeType: ctx.settings.fileSizeType, phoneNumberId: account, createdAt: ctx.settings.now(), idTtlMs: UPLOADED_MEDIA_TTL_MS, ...(file.filename ? { filename: file.filename } : {}) })
    ctx.stats.upload('whatsapp', account)
    return sendJson(res, 200, { id: media.id })
  }
  const platform = url.searchParams.get('platform') === 'instagram' || field('platform') === 'instagram' ? 'instagram' : 'messenger'
  let attachment: { type?: unknown; payload?: { is_reusable?: unknown } } | undefined
  try {
    attachment = (JSON.parse(field('message') ?? '{}') as { attachment?: typeof attachment }).attachment
  } catch {
    return rejected(res, 'Invalid parameter: message is not valid JSON', 100)
  }
  const type = attachment?.type
  if (typeof type !== 'string' || !(ATTACHMENT_TYPES as readonly string[]).includes(type)) return rejected(res, 'Invalid parameter: message.attachment.type must be image, audio, video or file', 100)
  const file = parts.find((p) => p.name === 'filedata' && p.filename !== undefined)
  if (!file) return rejected(res, 'The parameter filedata is required.', 100)
  const mime = (file.contentType ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase()
  const limit = type === 'image' ? 8 * MB : 25 * MB
  if (type === 'image' && !['image/jpeg', 'image/png', 'image/gif'].includes(mime)) return rejected(res, `Invalid parameter: unsupported image type ${mime}`, 100)
  if (type === 'audio' && !mime.startsWith('audio/')) return rejected(res, 'Invalid parameter: audio attachments need an audio/* Content-Type', 100)
  if (file.data.length > limit) return rejected(res, `Invalid parameter: attachment size ${file.data.length} is larger than ${limit / MB} MB`, 100)
  const media = ctx.store.add({ platform, mimeType: mime, bytes: file.data, sha256Encoding: 'hex', fileSizeType: ctx.settings.fileSizeType, createdAt: ctx.settings.now(), idTtlMs: ATTACHMENT_TTL_MS, ...(file.filename ? { filename: file.filename } : {}) })
  ctx.stats.upload(platform, account)
  sendJson(res, 200, { attachment_id: media.id })
}

/** The parts of a multipart/form-data body, or what is wrong with it. */
async function readMultipart(req: IncomingMessage): Promise<Part[] | string> {
  const type = req.headers['content-type'] ?? ''
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type)
  if (!/^multipart\/form-data/i.test(type) || !boundary) return 'the request must be multipart/form-data'
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > MAX_BODY) return 'the request body is too large'
    chunks.push(chunk)
  }
  const body = Buffer.concat(chunks)
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]!.trim()}`)
  const parts: Part[] = []
  let at = body.indexOf(delimiter)
  // Bounded by the body: each round moves past one delimiter.
  while (at !== -1) {
    const start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === '--') break
    const next = body.indexOf(delimiter, start)
    if (next === -1) return 'the multipart body is not terminated'
    const part = body.subarray(start + 2, next - 2)
    const headerEnd = part.indexOf('\r\n\r\n')
    if (headerEnd === -1) return 'a multipart part has no headers'
    const headers = part.subarray(0, headerEnd).toString('utf8')
    const name = /name="([^"]*)"/i.exec(headers)?.[1]
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1]
    const contentType = /^content-type:\s*(.+)$/im.exec(headers)?.[1]?.trim()
    if (name !== undefined) parts.push({ name, data: part.subarray(headerEnd + 4), ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}) })
    at = next
  }
  return parts
}
