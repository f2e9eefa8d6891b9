/**
 * Handles at Meta for stored media (`POST /v1/media/{id}/handles`): a media's bytes uploaded
 * once per platform and account, the media id or reusable attachment id Meta answered cached in
 * the catalog, and handed out again while it stays valid beyond a margin.
 *
 * Exactly one upload per (bytes, variant, platform, account): the catalog row is the lock
 * (claimHandle: inserted or taken over under a lease in one transaction), so concurrent
 * requests, in this process or others sharing the catalog, wait for the one upload and answer
 * its handle. In this process they wait on its promise; elsewhere they poll the row until the
 * lease ends. A failed upload deletes its row (abandonHandle): nothing half-uploaded is cached.
 */
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BlobStore } from '../blobs/blob-store.js'
import type { Derivatives, HandleKey, MediaHandle, MediaQueries, OutboundMedia } from '../catalog/catalog.js'
import { blobKeyFor } from '../blobs/blob-store.js'
import type { FfmpegTools } from '../derivatives/ffmpeg.js'
import { CONVERTIBLE_IMAGES, toJpegWithin, toVoiceNote } from './convert.js'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MediagateError, toMediagateError } from '../errors.js'
import { backoffDelay } from '../jobs/backoff.js'
import { baseType } from '../media/mime.js'
import { PLATFORMS, type MediaRecord, type Platform } from '../media/record.js'
import type { GraphClients } from '../platforms/graph/index.js'
import type { GraphMediaClient } from '../platforms/graph/index.js'
import { handleLifetimeMs, isOggOpus, type SendAs, sendAs } from './platform-limits.js'

export interface HandleRequest {
  platform: Platform
  accountId: string
  voice?: boolean
}

export interface HandleAnswer {
  handle: MediaHandle
  reused: boolean
  converted: boolean
}

export interface HandleServiceOptions {
  catalog: OutboundMedia & Pick<MediaQueries, 'get'> & Pick<Derivatives, 'derivativesOf' | 'reserveDerivatives'>
  blobs: BlobStore
  /** ffmpeg for voice notes; undefined when it is not installed (`voice: true` then answers tool_unavailable). */
  ffmpeg?: FfmpegTools | undefined
  /** Images with more pixels are not converted (MEDIAGATE_MAX_PIXELS). */
  maxPixels?: number
  graph: Pick<GraphClients, 'forWhatsApp' | 'forPage'>
  /** A cached handle is reused only while it stays valid this much longer (MEDIAGATE_HANDLE_MARGIN_HOURS). */
  marginMs: number
  /** How long an upload's row is held without a renewal (a dead process's row is taken over after it); renewed every third of it while the upload runs. Default 5 minutes. */
  leaseMs?: number
  /** Attempts per upload on transient failures (network, 5xx, rate limits). Default 4. */
  attempts?: number
  /** Backoff between attempts. Default 500 ms doubling up to 8 s. */
  baseDelayMs?: number
  maxDelayMs?: number
  /** How often a request polls a row another process is uploading. Default 200 ms. */
  pollMs?: number
  now?: () => Date
}

const ACCOUNT_ID = /^[0-9]{1,32}$/

/** Checks the body of `POST /v1/media/{id}/handles`. */
export function parseHandleRequest(body: unknown): HandleRequest {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  if (typeof b.platform !== 'string' || !(PLATFORMS as readonly string[]).includes(b.platform)) throw new MediagateError('bad_request', `platform must be one of ${PLATFORMS.join(', ')}`)
  if (typeof b.account_id !== 'string' || !ACCOUNT_ID.test(b.account_id)) throw new MediagateError('bad_request', 'account_id must be the numeric phone_number_id, page id or Instagram account id')
  if (b.voice !== undefined && typeof b.voice !== 'boolean') throw new MediagateError('bad_request', 'voice must be true or false')
  return { platform: b.platform as Platform, accountId: b.account_id, ...(b.voice !== undefined ? { voice: b.voice } : {}) }
}

export class HandleService {
  private readonly owner = `handles-${randomUUID()}`
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly leaseMs: number
  private readonly now: () => Date

  constructor(private readonly o: HandleServiceOptions) {
    this.leaseMs = o.leaseMs ?? 5 * 60_000
    this.now = o.now ?? (() => new Date())
  }

  /** The handle of a stored media for one account: cached, or uploaded now (once). */
  async handleFor(media: MediaRecord, request: HandleRequest, signal: AbortSignal): Promise<HandleAnswer> {
    if (media.status !== 'stored' || !media.blobKey || !media.sha256 || media.size === null) {
      throw new MediagateError('conflict', `media ${media.id} is ${media.status}; only stored media can be sent`)
    }
    const client = this.clientFor(request)
    const plan = await this.choose(media, request)
    const key: HandleKey = { sourceSha256: media.sha256, variant: plan.variant, platform: request.platform, accountId: request.accountId }
    // Bounded: a lease ends by itself, so each round either answers, uploads or waits for an end.
    for (let round = 0; round < 10_000; round++) {
      signal.throwIfAborted()
      const name = keyName(key)
      const running = this.inflight.get(name)
      if (running) {
        await running.catch(() => {})
        continue
      }
      const claim = await this.o.catalog.claimHandle({ ...key, mediaId: media.id, owner: this.owner, leaseMs: this.leaseMs, marginMs: this.o.marginMs })
      if (claim.status === 'ready') return { handle: claim.handle, reused: true, converted: claim.handle.variant !== 'original' }
      if (claim.status === 'busy') {
        const wait = Math.max(0, Math.min(this.o.pollMs ?? 200, claim.leaseExpiresAt.getTime() - Date.now()))
        await sleep(wait === 0 ? 10 : wait, undefined, { signal })
        continue
      }
      const upload = this.upload(media, key, plan, client, signal)
      this.inflight.set(name, upload)
      try {
        return { handle: await upload, reused: false, converted: plan.variant !== 'original' }
      } finally {
        this.inflight.delete(name)
      }
    }
    throw new MediagateError('internal', 'gave up waiting for an upload of the same media')
  }

  /** The cached handles of a media's bytes. */
  handlesOf(media: MediaRecord): Promise<MediaHandle[]> {
    return media.sha256 ? this.o.catalog.handlesOf([media.sha256]) : Promise.resolve([])
  }

  private clientFor(request: HandleRequest): GraphMediaClient {
    const client = request.platform === 'whatsapp' ? this.o.graph.forWhatsApp(request.accountId) : this.o.graph.forPage(request.accountId)
    if (client) return client
    const where = request.platform === 'whatsapp' ? `"whatsapp"."${request.accountId}" in mediagate.config.json, or WHATSAPP_ACCESS_TOKEN` : `"pages"."${request.accountId}" in mediagate.config.json`
    throw new MediagateError('no_token', `no access token for ${request.platform} account ${request.accountId}: set ${where}`)
  }

  /**
   * What goes to Meta: the media as it is, or a conversion (a voice note on request; a JPEG for
   * an image the platform does not take as it is, or that is over its limit).
   */
  private async choose(media: MediaRecord, request: HandleRequest): Promise<Choice> {
    const mime = baseType(media.mimeType) ?? ''
    if (request.voice) {
      if (!mime.startsWith('audio/') && !mime.startsWith('video/')) throw new MediagateError('unsupported_media', `a voice note is made from audio; this media is ${mime || 'of unknown type'}`)
      const target = sendAs(request.platform, { mimeType: 'audio/ogg', size: 0, kind: 'audio', animated: null }, true)
      return { variant: 'voice', sendAs: target, convert: 'voice' }
    }
    try {
      return { variant: 'original', sendAs: await this.plan(media, request.platform) }
    } catch (err) {
      const refused = err instanceof MediagateError && (err.code === 'unsupported_media' || err.code === 'too_large_for_platform')
      if (!refused || !CONVERTIBLE_IMAGES.has(mime)) throw err
      const target = sendAs(request.platform, { mimeType: 'image/jpeg', size: 0, kind: 'image', animated: null })
      return { variant: 'jpeg', sendAs: target, convert: 'jpeg' }
    }
  }

  /** The converted bytes for `choice`, stored as a derived blob of the media and reused by later requests. */
  private async converted(media: MediaRecord, choice: Choice, signal: AbortSignal): Promise<SentBytes> {
    const name = `send-${choice.variant}-${choice.sendAs.maxBytes}`
    const existing = (await this.o.catalog.derivativesOf(media.id)).find((d) => d.name === name && d.size !== null)
    if (existing && (await this.o.blobs.stat(existing.blobKey))) {
      return { blobKey: existing.blobKey, sha256: existing.blobKey.split('/').pop()!, size: existing.size!, mimeType: existing.mimeType }
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'mediagate-convert-'))
    try {
      const input = path.join(dir, 'input')
      const chunks: Buffer[] = []
      for await (const chunk of await this.o.blobs.read(media.blobKey!)) chunks.push(chunk as Buffer)
      await writeFile(input, Buffer.concat(chunks))
      let output: Buffer
      if (choice.convert === 'voice') {
        if (!this.o.ffmpeg) throw new MediagateError('tool_unavailable', 'making a voice note needs ffmpeg (MEDIAGATE_FFMPEG); it is not installed')
        const out = path.join(dir, 'voice.ogg')
        await toVoiceNote(this.o.ffmpeg, input, out, signal)
        output = await readFile(out)
      } else output = await toJpegWithin(input, choice.sendAs.maxBytes, this.o.maxPixels ?? 100_000_000)
      if (output.length > choice.sendAs.maxBytes) throw new MediagateError('too_large_for_platform', `the converted media is ${output.length} bytes; the limit is ${choice.sendAs.maxBytes} bytes`)
      const mimeType = choice.sendAs.mimeType
      const put = await this.o.blobs.put(Readable.from([output]), {
        contentType: mimeType,
        signal,
        beforeCommit: async (sha256) => {
          const [answer] = await this.o.catalog.reserveDerivatives([{ mediaId: media.id, name, blobKey: blobKeyFor(sha256), mimeType }])
          if (answer === 'gone') throw new MediagateError('conflict', `media ${media.id} is no longer stored`)
          if (answer === 'deleting') throw new MediagateError('storage', 'a deletion of the same bytes is in progress; ask again', { retryable: true })
        },
      })
      await this.o.catalog.completeConversion(media.id, name, put.key, put.size)
      return { blobKey: put.key, sha256: put.sha256, size: put.size, mimeType }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  private async plan(media: MediaRecord, platform: Platform): Promise<SendAs> {
    let opus: boolean | undefined
    if (platform === 'whatsapp' && baseType(media.mimeType) === 'audio/ogg' && media.blobKey) {
      const head = await this.head(media.blobKey, Math.min(media.size ?? 0, 128))
      opus = isOggOpus(head)
    }
    return sendAs(platform, { mimeType: media.mimeType, size: media.size ?? 0, kind: media.kind, animated: media.animated }, opus)
  }

  private async head(blobKey: string, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0)
    const chunks: Buffer[] = []
    for await (const chunk of await this.o.blobs.read(blobKey, { start: 0, end: length - 1 })) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  private async upload(media: MediaRecord, key: HandleKey, choice: Choice, client: GraphMediaClient, outer: AbortSignal): Promise<MediaHandle> {
    // The lease is renewed while the upload runs (a large video on a slow link outlives any fixed
    // lease), as the job engine renews its runs; a lost claim stops the upload, since another
    // process is making it now.
    const lost = new AbortController()
    const signal = AbortSignal.any([outer, lost.signal])
    const renewal = setInterval(() => {
      this.o.catalog.renewHandle(key, this.owner, this.leaseMs).then(
        (held) => {
          if (!held) lost.abort(new MediagateError('conflict', 'the upload lost its lease to another process; ask again'))
        },
        // The catalog being briefly unreachable is not a lost claim: the next tick tries again.
        () => {},
      )
    }, Math.max(1000, Math.floor(this.leaseMs / 3)))
    renewal.unref()
    try {
      const bytes: SentBytes = choice.convert ? await this.converted(media, choice, signal) : { blobKey: media.blobKey!, sha256: media.sha256!, size: media.size!, mimeType: choice.sendAs.mimeType }
      const handle = await this.uploadWithRetries(media, key, choice.sendAs, bytes, client, signal)
      const done = await this.o.catalog.completeHandle(key, this.owner, { handle, sha256: bytes.sha256, size: bytes.size, mimeType: bytes.mimeType, expiresAt: new Date(this.now().getTime() + handleLifetimeMs(key.platform)) })
      if (!done) throw new MediagateError('conflict', 'the upload lost its lease to another process; ask again')
      return done
    } catch (err) {
      // Read before abandoning: a renewal that lands after the row is gone must not mask `err`.
      const cause = lost.signal.aborted ? lost.signal.reason : err
      await this.o.catalog.abandonHandle(key, this.owner).catch(() => {})
      throw cause
    } finally {
      clearInterval(renewal)
    }
  }

  private async uploadWithRetries(media: MediaRecord, key: HandleKey, plan: SendAs, bytes: SentBytes, client: GraphMediaClient, signal: AbortSignal): Promise<string> {
    const attempts = this.o.attempts ?? 4
    const filename = bytes.blobKey === media.blobKey && media.filename ? media.filename : `${media.id}${extension(bytes.mimeType)}`
    const file = { filename, mimeType: bytes.mimeType, size: bytes.size, open: () => this.o.blobs.read(bytes.blobKey) }
    for (let attempt = 1; ; attempt++) {
      let stream: Readable | undefined
      try {
        // read() is async and the multipart body opens its file synchronously: open it first.
        const opened = await file.open()
        stream = opened
        const once = { ...file, open: () => opened }
        return key.platform === 'whatsapp'
          ? await client.uploadWhatsApp(key.accountId, once, { signal })
          : await client.uploadAttachment(key.accountId, { ...once, type: plan.type, platform: key.platform }, { signal })
      } catch (err) {
        stream?.destroy()
        const error = uploadError(err)
        if (!error.retryable || attempt >= attempts || signal.aborted) throw error
        const delay = Math.max(error.retryAfterMs ?? 0, backoffDelay(attempt, { baseDelayMs: this.o.baseDelayMs ?? 500, maxDelayMs: this.o.maxDelayMs ?? 8000 }))
        await sleep(delay, undefined, { signal })
      }
    }
  }
}

/** Graph refusing the bytes (4xx other than auth and limits) is Meta rejecting the upload; Meta's message stays. */
function uploadError(err: unknown): MediagateError {
  const error = toMediagateError(err)
  if (error.code === 'source_rejected' || error.code === 'source_expired') {
    return new MediagateError('meta_rejected', error.message, { cause: error, ...(error.vendorCode !== undefined ? { vendorCode: error.vendorCode } : {}) })
  }
  return error
}

interface Choice {
  /** `original`, `voice` or `jpeg`: part of the cache key. */
  variant: string
  sendAs: SendAs
  convert?: 'voice' | 'jpeg'
}

/** The bytes an upload sends: the media's own blob or a conversion's. */
interface SentBytes {
  blobKey: string
  sha256: string
  size: number
  mimeType: string
}

function keyName(key: HandleKey): string {
  return `${key.sourceSha256}:${key.variant}:${key.platform}:${key.accountId}`
}

const EXTENSIONS: Record<string, string> = { 'image/jpeg': '.jpg', 'image/png': '.png', 'image/webp': '.webp', 'image/gif': '.gif', 'audio/ogg': '.ogg', 'audio/mpeg': '.mp3', 'audio/mp4': '.m4a', 'video/mp4': '.mp4', 'application/pdf': '.pdf', 'text/plain': '.txt' }

function extension(mime: string): string {
  return EXTENSIONS[mime] ?? ''
}
