/**
 * `/_emulator/send`: make a sample media for a platform and kind, build the webhook that would
 * announce it, sign it and post it to the target. Sandbox mode and `mediagate emulator` users
 * drive the whole flow with one curl.
 */
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
  return {
    platform,
    kind: b.kind,
    ...(b.target === undefined ? {} : { target: b.target as string }),
    ...(b.size === undefined ? {} : { size: b.size as number }),
    ...(typeof b.caption === 'string' ? { caption: b.caption } : {}),
  }
}

export async function sendSample(emu: Emulator, req: SendSampleRequest): Promise<SendSampleResult> {
  const spec = KINDS[req.platform][req.kind]!
  const mimeType = spec.mimeType ?? SAMPLE_MIME[spec.sample]
  const n = ++nonce
  const content = req.size === undefined ? { bytes: sampleFile(spec.sample, n) } : { size: req.size }
  const filename = spec.sample === 'pdf' ? `sample-${n}.pdf` : undefined
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
