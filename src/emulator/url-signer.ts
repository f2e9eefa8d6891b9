/**
 * Signed media URLs shaped like Meta's: WhatsApp lookaside (`?mid&ext&hash`), fbcdn for
 * Messenger (`oh` signature, `oe` = expiry as uppercase hex unix seconds) and the Instagram
 * lookaside (`asset_id&signature`, expiry kept server-side). The HMAC key is random per
 * emulator, so URLs from another run never verify, unless the emulator keeps its state in a
 * directory (emulator-state.ts), which keeps the key too.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** Where a CDN URL points; kinds mirror the fbcdn path families Meta uses. */
export type CdnFamily = 'image' | 'av' | 'file' | 'instagram'

const FAMILY_DIRS: Record<Exclude<CdnFamily, 'instagram'>, string> = {
  image: '/v/t1.15752-9/',
  av: '/v/t42.3356-2/',
  file: '/v/t59.2708-21/',
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/ogg': 'ogg',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
}

export function extensionFor(mimeType: string): string {
  return EXTENSIONS[mimeType.split(';')[0]!.trim().toLowerCase()] ?? 'bin'
}

export function cdnFamilyFor(platform: 'messenger' | 'instagram', mimeType: string): CdnFamily {
  if (platform === 'instagram') return 'instagram'
  if (mimeType.startsWith('image/')) return 'image'
  if (mimeType.startsWith('audio/') || mimeType.startsWith('video/')) return 'av'
  return 'file'
}

/** A verified URL: which media it names and when it stops working (ms; undefined = server-side). */
export interface VerifiedUrl {
  mediaId: string
  expiresAt: number | undefined
}

export class UrlSigner {
  /** Random per emulator unless a state directory keeps one, so URLs signed before a restart verify after it. */
  constructor(
    private readonly baseUrl: string,
    private readonly key: Buffer = randomBytes(32),
  ) {}

  whatsapp(mediaId: string, expiresAtMs: number): string {
    const ext = String(Math.ceil(expiresAtMs / 1000))
    const q = new URLSearchParams({ mid: mediaId, ext, hash: this.mac(`wa|${mediaId}|${ext}`) })
    return `${this.baseUrl}/whatsapp_business/attachments/?${q}`
  }

  verifyWhatsApp(query: URLSearchParams): VerifiedUrl | undefined {
    const mid = query.get('mid')
    const ext = query.get('ext')
    const hash = query.get('hash')
    if (!mid || !ext || !/^\d+$/.test(ext) || !hash || !this.check(`wa|${mid}|${ext}`, hash)) return undefined
    return { mediaId: mid, expiresAt: Number(ext) * 1000 }
  }

  /** fbcdn-style URL; `filename` is appended as a path segment for files (with `dl=1`). */
  messenger(mediaId: string, family: Exclude<CdnFamily, 'instagram'>, mimeType: string, expiresAtMs: number, filename?: string): string {
    const nonce = randomBytes(6).readUIntBE(0, 6)
    let path = `${FAMILY_DIRS[family]}${mediaId}_${nonce}_n.${extensionFor(mimeType)}`
    if (family === 'file') path += `/${encodeURIComponent(filename ?? `file.${extensionFor(mimeType)}`)}`
    const oe = Math.ceil(expiresAtMs / 1000).toString(16).toUpperCase()
    const q = new URLSearchParams({ _nc_cat: '1', ccb: '1-7', _nc_sid: 'fc17b8' })
    q.set('oh', `00_${this.mac(`fb|${path}|${oe}`)}`)
    q.set('oe', oe)
    if (family === 'file') q.set('dl', '1')
    return `${this.baseUrl}${path}?${q}`
  }

  verifyMessenger(pathname: string, query: URLSearchParams): VerifiedUrl | undefined {
    const oh = query.get('oh')
    const oe = query.get('oe')
    const id = /^\/v\/t[\d.-]+\/([\w.-]+?)_\d+_n\./.exec(pathname)?.[1]
    if (!id || !oh?.startsWith('00_') || !oe || !/^[0-9A-F]+$/.test(oe)) return undefined
    if (!this.check(`fb|${pathname}|${oe}`, oh.slice(3))) return undefined
    return { mediaId: id, expiresAt: parseInt(oe, 16) * 1000 }
  }

  instagram(assetId: string): string {
    const q = new URLSearchParams({ asset_id: assetId, signature: this.mac(`ig|${assetId}`) })
    return `${this.baseUrl}/ig_messaging_cdn/?${q}`
  }

  verifyInstagram(query: URLSearchParams): VerifiedUrl | undefined {
    const id = query.get('asset_id')
    const signature = query.get('signature')
    if (!id || !signature || !this.check(`ig|${id}`, signature)) return undefined
    return { mediaId: id, expiresAt: undefined }
  }

  private mac(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url')
  }

  private check(data: string, given: string): boolean {
    const expected = Buffer.from(this.mac(data))
    const actual = Buffer.from(given)
    return expected.length === actual.length && timingSafeEqual(expected, actual)
  }
}
