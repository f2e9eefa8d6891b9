/**
 * `/_emulator/send`: make a sample media for a platform and kind, build the webhook that would
 * announce it, sign it and post it to the target. Sandbox mode and `mediagate emulator` users
 * drive the whole flow with one curl.
 */
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { MediagateError } from '../errors.js'
import { SAMPLE_MIME, type SampleKind, sampleFile } from './sample-media.js'
import type { Emulator, Platform, RegisteredMedia } from './types.js'
import type { MetaWebhook } from './webhook-payloads.js'

interface KindSpec {
  sample: SampleKind
  mimeType?: string
  /** WhatsApp: `voice: true`; Messenger sticker: send the legacy/new twins. */
  voice?: boolean
  sticker?: boolean
  /** Attachment type when it differs from the kind. */
  type?: string
  /** More payload fields (an `ig_post`'s media id and title). */
  extra?: { title?: string; ig_post_media_id?: string }
}

const KINDS: Record<Platform, Record<string, KindSpec>> = {
  whatsapp: {
    image: { sample: 'jpeg' },
    video: { sample: 'mp4' },
    audio: { sample: 'ogg' },
    voice: { sample: 'ogg', mimeType: 'audio/ogg; codecs=opus', voice: true, type: 'audio' },
    document: { sample: 'pdf' },
    sticker: { sample: 'webp' },
  },
  messenger: {
    image: { sample: 'jpeg' },
    video: { sample: 'mp4' },
    audio: { sample: 'ogg' },
    file: { sample: 'pdf' },
    sticker: { sample: 'png', sticker: true },
    reel: { sample: 'mp4' },
    ig_reel: { sample: 'mp4' },
    // The only sticker type since 30 Aug 2026 (`sticker` above sends the transition's twins).
    sticker_only: { sample: 'png', type: 'sticker' },
    ig_post: { sample: 'jpeg', extra: { title: 'A shared post', ig_post_media_id: '18045678901234567' } },
  },
  instagram: {
    image: { sample: 'jpeg' },
    video: { sample: 'mp4' },
    audio: { sample: 'ogg' },
    file: { sample: 'pdf' },
    share: { sample: 'jpeg' },
    story_mention: { sample: 'jpeg' },
    ig_reel: { sample: 'mp4' },
    reel: { sample: 'mp4' },
    ig_post: { sample: 'jpeg', extra: { title: 'A shared post', ig_post_media_id: '18045678901234567' } },
    ig_story: { sample: 'jpeg' },
    unsupported_type: { sample: 'jpeg' },
    sticker: { sample: 'png' },
  },
}

export interface SendSampleRequest {
  platform: Platform
  kind: string
  target?: string
  /** Generate this many pseudo-random bytes instead of a small real file (load tests). */
  size?: number
  caption?: string
  /** Your own file instead of the sample: its bytes (base64) or a path the emulator reads. */
  own?: { bytes: Buffer; mimeType: string; filename?: string }
}

export interface SendSampleResult {
  platform: Platform
  kind: string
  media_id: string
  url?: string
  message_id: string
  sha256: string
  size: number
  status: number
  body: string
}

let nonce = 0

export function parseSendRequest(body: unknown): SendSampleRequest {
  const b = (body ?? {}) as Record<string, unknown>
  const platform = b.platform
  if (platform !== 'whatsapp' && platform !== 'messenger' && platform !== 'instagram') {
    throw new MediagateError('bad_request', 'platform must be whatsapp, messenger or instagram')
  }
  const kinds = Object.keys(KINDS[platform])
  if (typeof b.kind !== 'string' || !kinds.includes(b.kind)) {
    throw new MediagateError('bad_request', `kind for ${platform} must be one of ${kinds.join(', ')}`)
  }
  if (b.target !== undefined && (typeof b.target !== 'string' || !/^https?:\/\//.test(b.target))) {
    throw new MediagateError('bad_request', 'target must be an http(s) URL')
  }
  if (b.size !== undefined && !(Number.isSafeInteger(b.size) && (b.size as number) >= 0)) {
    throw new MediagateError('bad_request', 'size must be a non-negative integer')
  }
  const own = ownFile(b)
  if (own && b.size !== undefined) throw new MediagateError('bad_request', 'give size or your own file, not both')
  return {
    platform,
    kind: b.kind,
    ...(b.target === undefined ? {} : { target: b.target as string }),
    ...(b.size === undefined ? {} : { size: b.size as number }),
    ...(typeof b.caption === 'string' ? { caption: b.caption } : {}),
    ...(own ? { own } : {}),
  }
}

/** The emulator keeps media in memory: a file larger than this is refused rather than held. */
const MAX_OWN_BYTES = 100 * 1024 * 1024

/** `file` (a path on the emulator's machine) or `bytes_base64`, with an optional `mime_type` and `filename`. */
function ownFile(b: Record<string, unknown>): SendSampleRequest['own'] {
  if (b.file === undefined && b.bytes_base64 === undefined) return undefined
  if (b.file !== undefined && b.bytes_base64 !== undefined) throw new MediagateError('bad_request', 'give file or bytes_base64, not both')
  let bytes: Buffer
  let name: string | undefined
  if (typeof b.file === 'string' && b.file !== '') {
    const size = (() => {
      try {
        return statSync(b.file).size
      } catch (err) {
        throw new MediagateError('bad_request', `cannot read file ${b.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
      }
    })()
    if (size > MAX_OWN_BYTES) throw new MediagateError('bad_request', `file is ${size} bytes; the emulator takes at most ${MAX_OWN_BYTES}`)
    bytes = readFileSync(b.file)
    name = path.basename(b.file)
  } else if (typeof b.bytes_base64 === 'string') {
    bytes = Buffer.from(b.bytes_base64, 'base64')
    if (bytes.length > MAX_OWN_BYTES) throw new MediagateError('bad_request', `bytes_base64 holds ${bytes.length} bytes; the emulator takes at most ${MAX_OWN_BYTES}`)
  } else {
    throw new MediagateError('bad_request', 'file must be a path, bytes_base64 a base64 string')
  }
  if (bytes.length === 0) throw new MediagateError('bad_request', 'your file is empty')
  if (b.mime_type !== undefined && (typeof b.mime_type !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(b.mime_type))) {
    throw new MediagateError('bad_request', 'mime_type must look like image/jpeg')
  }
  if (b.filename !== undefined && typeof b.filename !== 'string') throw new MediagateError('bad_request', 'filename must be a string')
  const filename = (b.filename as string | undefined) ?? name
  return { bytes, mimeType: (b.mime_type as string | undefined) ?? 'application/octet-stream', ...(filename ? { filename } : {}) }
}

export async function sendSample(emu: Emulator, req: SendSampleRequest): Promise<SendSampleResult> {
  const spec = KINDS[req.platform][req.kind]!
  const n = ++nonce
  const { own } = req
  // Your own file keeps its type only when you named it: Meta declares what the sender's app said.
  const mimeType = own ? (own.mimeType === 'application/octet-stream' ? (spec.mimeType ?? SAMPLE_MIME[spec.sample]) : own.mimeType) : (spec.mimeType ?? SAMPLE_MIME[spec.sample])
  const content = own ? { bytes: own.bytes } : req.size === undefined ? { bytes: sampleFile(spec.sample, n) } : { size: req.size }
  const filename = own ? own.filename : spec.sample === 'pdf' ? `sample-${n}.pdf` : undefined
  let media: RegisteredMedia
  let payload: MetaWebhook
  if (req.platform === 'whatsapp') {
    media = emu.addWhatsAppMedia({ ...content, mimeType, ...(filename ? { filename } : {}) })
    payload = emu.payloads.whatsappMedia(media, {
      ...(spec.type ? { type: spec.type as 'audio' } : {}),
      ...(spec.voice ? { voice: true } : {}),
      ...(req.caption === undefined ? {} : { caption: req.caption }),
    })
  } else {
    media = emu.addCdnMedia({ platform: req.platform, ...content, mimeType, ...(filename ? { filename } : {}) })
    const url = media.url!
    const attachments = spec.sticker ? emu.payloads.stickerTwins(url) : [{ type: spec.type ?? req.kind, url, ...spec.extra }]
    const text = req.caption === undefined ? {} : { text: req.caption }
    payload = req.platform === 'messenger' ? emu.payloads.messengerMessage({ ...text, attachments }) : emu.payloads.instagramMessage({ ...text, attachments })
  }
  const messageId = messageIdOf(payload)
  const result = await emu.sendWebhook(payload, req.target === undefined ? {} : { target: req.target })
  return {
    platform: req.platform,
    kind: req.kind,
    media_id: media.id,
    ...(media.url === undefined ? {} : { url: media.url }),
    message_id: messageId,
    sha256: media.sha256,
    size: media.size,
    status: result.status,
    body: result.body,
  }
}

function messageIdOf(payload: MetaWebhook): string {
  if (payload.object === 'whatsapp_business_account') return String(payload.entry[0]?.changes[0]?.value.messages?.[0]?.id)
  return String(payload.entry[0]?.messaging[0]?.message?.mid)
}
