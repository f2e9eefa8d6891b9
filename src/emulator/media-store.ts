/**
 * The media the emulator knows: id, declared metadata and where the bytes come from. Hashes of
 * generated media are computed on first use and cached, so registering a 500 MB video is free
 * until someone needs its sha256 (do that before a timed run).
 */
import { randomInt } from 'node:crypto'
import type { Platform } from '../media/record.js'
import { MediagateError } from '../errors.js'
import { type ByteSource, bufferSource, generatedSource, hashSource } from './byte-source.js'
import type { EmulatorState, RestoredMedia } from './emulator-state.js'
import type { FileSizeType, RegisteredMedia, Sha256Encoding } from './types.js'

export interface NewStoredMedia {
  id?: string
  platform: Platform
  mimeType: string
  bytes?: Buffer
  size?: number
  filename?: string
  sha256Encoding: Sha256Encoding
  fileSizeType: FileSizeType
  phoneNumberId?: string
  createdAt: number
  /** How long the id resolves (uploads: 30 days); default the settings' mediaIdTtlMs. */
  idTtlMs?: number
  /** Where the bytes are, for a media restored from a state directory. */
  source?: ByteSource
  /** Its sha256 (hex), for a deleted media restored without its bytes. */
  sha256Hex?: string
}

export class StoredMedia implements RegisteredMedia {
  readonly id: string
  readonly platform: Platform
  readonly mimeType: string
  readonly filename: string | undefined
  readonly sha256Encoding: Sha256Encoding
  readonly fileSizeType: FileSizeType
  readonly phoneNumberId: string | undefined
  readonly createdAt: number
  readonly idTtlMs: number | undefined
  readonly source: ByteSource
  url: string | undefined
  /** Instagram assets expire server-side; Messenger and WhatsApp URLs carry their expiry. */
  expiresAt: number | undefined
  deleted = false
  private digest: Buffer | undefined

  constructor(id: string, m: NewStoredMedia) {
    this.id = id
    this.platform = m.platform
    this.mimeType = m.mimeType
    this.filename = m.filename
    this.sha256Encoding = m.sha256Encoding
    this.fileSizeType = m.fileSizeType
    this.phoneNumberId = m.phoneNumberId
    this.createdAt = m.createdAt
    this.idTtlMs = m.idTtlMs
    this.source = m.source ?? (m.bytes ? bufferSource(m.bytes) : generatedSource(id, m.size ?? 0))
    if (m.sha256Hex !== undefined) this.digest = Buffer.from(m.sha256Hex, 'hex')
  }

  get size(): number {
    return this.source.size
  }
  get generated(): boolean {
    return this.source.generated
  }
  get sha256Hex(): string {
    return this.sha256Digest().toString('hex')
  }
  get sha256Base64(): string {
    return this.sha256Digest().toString('base64')
  }
  get sha256(): string {
    return this.sha256Encoding === 'hex' ? this.sha256Hex : this.sha256Base64
  }

  /** A plain snapshot for JSON answers (the control API). */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      platform: this.platform,
      mime_type: this.mimeType,
      size: this.size,
      filename: this.filename,
      url: this.url,
      sha256: this.sha256,
      sha256_hex: this.sha256Hex,
      sha256_base64: this.sha256Base64,
      generated: this.generated,
    }
  }

  private sha256Digest(): Buffer {
    this.digest ??= hashSource(this.source)
    return this.digest
  }
}

/** Meta's media and asset ids are 15–17 digit numbers. */
function randomNumericId(): string {
  return `${randomInt(1, 10)}${String(randomInt(0, 1e8)).padStart(8, '0')}${String(randomInt(0, 1e7)).padStart(7, '0')}`
}

/**
 * In memory, and also in a state directory when given one (emulator-state.ts): every change is
 * written there before it is visible, so a restarted emulator knows what it knew.
 */
export class MediaStore {
  private readonly byId = new Map<string, StoredMedia>()

  constructor(private readonly state?: EmulatorState) {}

  /** Puts back what a state directory remembered; nothing is written. */
  restore(restored: readonly RestoredMedia[]): void {
    for (const r of restored) {
      const { t: _t, file: _file, ...entry } = r.entry
      const media = new StoredMedia(entry.id, { ...entry, ...(r.source ? { source: r.source } : {}), ...(r.sha256Hex === undefined ? {} : { sha256Hex: r.sha256Hex }) })
      media.url = r.url
      media.expiresAt = r.expiresAt
      media.deleted = r.deleted
      this.byId.set(media.id, media)
    }
  }

  add(m: NewStoredMedia): StoredMedia {
    if (m.bytes === undefined && m.size === undefined) {
      throw new MediagateError('bad_request', 'emulator media needs `bytes` or `size`')
    }
    if (m.bytes !== undefined && m.size !== undefined && m.size !== m.bytes.length) {
      throw new MediagateError('bad_request', `emulator media: size ${m.size} does not match ${m.bytes.length} bytes given`)
    }
    if (m.id !== undefined && !/^[\w.-]{1,128}$/.test(m.id)) {
      throw new MediagateError('bad_request', 'emulator media id must be 1-128 word characters, dots or dashes')
    }
    let id = m.id
    if (id === undefined) {
      do id = randomNumericId()
      while (this.byId.has(id))
    } else if (this.byId.has(id)) {
      throw new MediagateError('conflict', `emulator media ${id} already exists`)
    }
    const media = new StoredMedia(id, m)
    this.state?.addMedia(
      {
        id,
        platform: m.platform,
        mimeType: m.mimeType,
        size: media.size,
        sha256Encoding: m.sha256Encoding,
        fileSizeType: m.fileSizeType,
        createdAt: m.createdAt,
        ...(m.filename === undefined ? {} : { filename: m.filename }),
        ...(m.phoneNumberId === undefined ? {} : { phoneNumberId: m.phoneNumberId }),
        ...(m.idTtlMs === undefined ? {} : { idTtlMs: m.idTtlMs }),
      },
      m.bytes,
    )
    this.byId.set(id, media)
    return media
  }

  /** The signed CDN URL given out when the media was registered. */
  setUrl(media: StoredMedia, url: string): void {
    this.state?.append({ t: 'url', id: media.id, url })
    media.url = url
  }

  /** A server-side expiry (Instagram's lookaside keeps it; Messenger's is in the URL). */
  setExpiry(media: StoredMedia, at: number): void {
    if (media.expiresAt === at) return
    this.state?.append({ t: 'expires', id: media.id, at })
    media.expiresAt = at
  }

  get(id: string): StoredMedia | undefined {
    return this.byId.get(id)
  }

  /** Forgets the bytes' availability but keeps the id known, as Meta does after DELETE. */
  delete(id: string): boolean {
    const media = this.byId.get(id)
    if (!media || media.deleted) return false
    if (this.state) {
      this.state.append({ t: 'deleted', id, ...(media.generated ? {} : { sha256: media.sha256Hex }) })
      if (!media.generated) this.state.dropBytes(id)
    }
    media.deleted = true
    return true
  }
}
