/**
 * Derivatives end to end over real HTTP with the emulator's real sample media, real sharp and
 * real ffmpeg: thumbnails, previews and facts made in the background once a media is stored (the
 * media never waits for them), made on demand when missing, failures recorded on the record and
 * never on the media, derived blobs erased with their media, and metadata stripped on request.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleJpeg, sampleMp4, sampleOgg, samplePdf, sampleWebp } from '../../src/emulator/sample-media.js'
import type { MediaJson } from '../../src/serve/present-media.js'
import { type Harness, startHarness } from '../helpers/harness.js'

const HAS_FFMPEG = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' })
    return true
  } catch {
    if (process.env.CI === 'true') throw new Error('ffmpeg is missing (apt-get install ffmpeg): the derivative tests need it')
    return false
  }
})()

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function send(h: Harness, type: 'image' | 'video' | 'audio' | 'document' | 'sticker', bytes: Buffer, mimeType: string, fields: Record<string, unknown> = {}): Promise<MediaJson> {
  return h.storedWhatsApp(bytes, { type, mimeType, fields })
}

/** Polls until deriving left `pending`. */
async function derived(h: Harness, id: string, timeoutMs = 30_000): Promise<MediaJson> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const media = (await (await h.api(`/v1/media/${id}`)).json()) as MediaJson
    if ((media.derivatives && media.derivatives.status !== 'pending') || Date.now() > deadline) return media
    await new Promise((r) => setTimeout(r, 50))
  }
}

function probe(bytes: Buffer): { format: { duration: string; format_name: string }; streams: { codec_name: string }[] } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'derived-')), 'f')
  writeFileSync(file, bytes)
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8' }))
}

describe('derivatives in the background', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h?.close())

  it('a photo gets its size, a placeholder and WebP thumbnails without metadata at 96, 320 and 640', async () => {
    const bytes = sampleJpeg(101)
    const stored = await send(h, 'image', bytes, 'image/jpeg')
    expect(stored.derivatives?.status).toMatch(/pending|done/)
    const media = await derived(h, stored.id)
    expect(media).toMatchObject({ width: 1600, height: 1200, duration_ms: null, waveform: null, derivatives: { status: 'done', error: null } })
    expect(typeof media.placeholder).toBe('string')
    expect(Buffer.from(media.placeholder!, 'base64').length).toBeGreaterThan(5)
    const res = await h.api(`/v1/media/${media.id}/thumbnail`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/webp')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('cache-control')).toMatch(/max-age/)
    const thumb = Buffer.from(await res.arrayBuffer())
    expect(res.headers.get('etag')).toBe(`"${sha(thumb)}"`)
    const meta = await sharp(thumb).metadata()
    expect(meta).toMatchObject({ format: 'webp', width: 320, height: 240 })
    expect(meta.exif).toBeUndefined()
    for (const size of [96, 640]) {
      const other = await h.api(`/v1/media/${media.id}/thumbnail?size=${size}`)
      expect((await sharp(Buffer.from(await other.arrayBuffer())).metadata()).width).toBe(size)
    }
    expect((await h.api(`/v1/media/${media.id}/thumbnail?size=100`)).status).toBe(400)
    const again = await h.api(`/v1/media/${media.id}/thumbnail`, { headers: { 'if-none-match': res.headers.get('etag')! } })
    expect(again.status).toBe(304)
    // The original is served as it was stored, metadata and all.
    expect(sha(Buffer.from(await (await h.api(`/v1/media/${media.id}/content`)).arrayBuffer()))).toBe(sha(bytes))
    // And through a signed link, without the API key.
    const link = (await (await h.api(`/v1/media/${media.id}/links`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { url: string }
    const signed = await fetch(link.url.replace('/content?', '/thumbnail?'))
    expect(signed.status).toBe(200)
    expect(Buffer.from(await signed.arrayBuffer()).equals(thumb)).toBe(true)
    expect((await fetch(link.url.replace('/content?', '/thumbnail?').replace(/sig=[^&]+/, 'sig=AAAA'))).status).toBe(403)
  })

  it('an animated sticker gets a thumbnail of its first frame', async () => {
    const media = await derived(h, (await send(h, 'sticker', sampleWebp(5), 'image/webp', { animated: true })).id)
    expect(media).toMatchObject({ width: 512, height: 512, derivatives: { status: 'done' } })
    const thumb = await h.api(`/v1/media/${media.id}/thumbnail?size=96`)
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).pages ?? 1).toBe(1)
  })

  it.skipIf(!HAS_FFMPEG)('a voice note gets its duration, a 64-bar waveform and an AAC preview with Range', async () => {
    const media = await derived(h, (await send(h, 'audio', sampleOgg(102), 'audio/ogg; codecs=opus', { voice: true })).id)
    expect(media.derivatives).toEqual({ status: 'done', error: null })
    expect(media.duration_ms).toBeGreaterThan(3900)
    expect(media.duration_ms).toBeLessThan(4200)
    expect(media.waveform).toHaveLength(64)
    expect(media.waveform!.every((v) => Number.isInteger(v) && v >= 0 && v <= 100)).toBe(true)
    expect(Math.max(...media.waveform!)).toBe(100)
    // The sample pauses between "syllables": the bars are not flat.
    expect(Math.min(...media.waveform!)).toBeLessThan(50)
    const preview = await h.api(`/v1/media/${media.id}/preview`)
    expect(preview.status).toBe(200)
    expect(preview.headers.get('content-type')).toBe('audio/mp4')
    const bytes = Buffer.from(await preview.arrayBuffer())
    const probed = probe(bytes)
    expect(probed.streams.map((s) => s.codec_name)).toEqual(['aac'])
    expect(probed.format.format_name).toContain('mp4')
    const part = await h.api(`/v1/media/${media.id}/preview`, { headers: { range: 'bytes=0-99' } })
    expect(part.status).toBe(206)
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(0, 100))).toBe(true)
    expect((await h.api(`/v1/media/${media.id}/thumbnail`)).status).toBe(404)
    expect(((await (await h.api(`/v1/media/${media.id}/thumbnail`)).json()) as { error: { code: string } }).error.code).toBe('no_thumbnail')
  })

  it.skipIf(!HAS_FFMPEG)('an H.264/AAC video gets a poster thumbnail, its size and duration; its preview is the original', async () => {
    const bytes = sampleMp4(103)
    const media = await derived(h, (await send(h, 'video', bytes, 'video/mp4')).id)
    expect(media).toMatchObject({ width: 640, height: 360, derivatives: { status: 'done', error: null } })
    expect(media.duration_ms).toBeGreaterThan(2900)
    expect(typeof media.placeholder).toBe('string')
    const thumb = await h.api(`/v1/media/${media.id}/thumbnail`)
    expect(thumb.status).toBe(200)
    expect(await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).toMatchObject({ width: 320, height: 180 })
    const preview = await h.api(`/v1/media/${media.id}/preview`)
    expect(preview.headers.get('content-type')).toBe('video/mp4')
    expect(sha(Buffer.from(await preview.arrayBuffer()))).toBe(sha(bytes))
  })

  it('a PDF has no thumbnail (no renderer here) and no preview; a corrupt image fails its derivatives, never the media', async () => {
    const pdf = await derived(h, (await send(h, 'document', samplePdf(104), 'application/pdf', { filename: 'a.pdf' })).id)
    expect(pdf.status).toBe('stored')
    expect(pdf.derivatives?.status).toBe('skipped')
    expect((await h.api(`/v1/media/${pdf.id}/thumbnail`)).status).toBe(404)
    const noPreview = await h.api(`/v1/media/${pdf.id}/preview`)
    expect(noPreview.status).toBe(404)
    expect(((await noPreview.json()) as { error: { code: string } }).error.code).toBe('no_preview')

    const corrupt = Buffer.concat([sampleJpeg(105).subarray(0, 4000), Buffer.alloc(2000, 0x55)])
    const broken = await derived(h, (await send(h, 'image', corrupt, 'image/jpeg')).id)
    expect(broken.status).toBe('stored')
    expect(broken.derivatives?.status).toBe('failed')
    expect(broken.derivatives?.error).toMatch(/^unprocessable_media: /)
    const res = await h.api(`/v1/media/${broken.id}/thumbnail`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('unprocessable_media')
  })

  it('erasing a media deletes its derived blobs with it, and keeps those another media shares', async () => {
    // Pixels of its own: the samples differ only in metadata, so their thumbnails are shared blobs.
    const unique = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 10, g: 200, b: 77 } } }).png().toBuffer()
    const twin = await derived(h, (await send(h, 'image', Buffer.concat([unique, Buffer.from('trailing')]), 'image/png')).id)
    const media = await derived(h, (await send(h, 'image', unique, 'image/png')).id)
    const { catalog, blobs } = h.internals.parts
    const keys = (await catalog.derivativesOf(media.id)).map((d) => d.blobKey)
    expect(keys).toHaveLength(3)
    for (const key of keys) expect(await blobs.stat(key)).toBeDefined()
    // Same pixels, same thumbnails: erasing one media leaves the other's.
    expect((await catalog.derivativesOf(twin.id)).map((d) => d.blobKey).sort()).toEqual([...keys].sort())
    expect((await h.api(`/v1/media/${twin.id}`, { method: 'DELETE' })).status).toBe(200)
    for (const key of keys) expect(await blobs.stat(key)).toBeDefined()
    expect((await h.api(`/v1/media/${media.id}/thumbnail`)).status).toBe(200)
    expect((await h.api(`/v1/media/${media.id}`, { method: 'DELETE' })).status).toBe(200)
    for (const key of keys) expect(await blobs.stat(key)).toBeUndefined()
    expect(await catalog.derivativesOf(media.id)).toEqual([])
    expect((await h.api(`/v1/media/${media.id}/thumbnail`)).status).toBe(410)
  })
})

describe('derivatives on demand, metadata stripping, no ffmpeg', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { MEDIAGATE_DERIVE: '0', MEDIAGATE_STRIP_METADATA: '1', MEDIAGATE_FFMPEG: '/nonexistent/ffmpeg' } })
  })
  afterAll(async () => h?.close())

  it('with background deriving off, a thumbnail request makes it once, shared by concurrent requests', async () => {
    const stored = await send(h, 'image', sampleJpeg(201), 'image/jpeg')
    expect(stored.derivatives).toBeNull()
    expect(await h.internals.parts.catalog.getTask('derive', stored.id)).toBeUndefined()
    const answers = await Promise.all([1, 2, 3].map(() => h.api(`/v1/media/${stored.id}/thumbnail?size=96`)))
    const bodies = await Promise.all(answers.map(async (r) => Buffer.from(await r.arrayBuffer())))
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200])
    expect(bodies[1]!.equals(bodies[0]!) && bodies[2]!.equals(bodies[0]!)).toBe(true)
    const media = (await (await h.api(`/v1/media/${stored.id}`)).json()) as MediaJson
    expect(media).toMatchObject({ width: 1600, height: 1200, derivatives: { status: 'done' } })
  })

  it('MEDIAGATE_STRIP_METADATA serves a photo without EXIF or GPS; ?original=1 gives the stored bytes', async () => {
    const bytes = sampleJpeg(202)
    expect((await sharp(bytes).metadata()).exif).toBeDefined()
    const stored = await send(h, 'image', bytes, 'image/jpeg')
    const res = await h.api(`/v1/media/${stored.id}/content`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/jpeg')
    const served = Buffer.from(await res.arrayBuffer())
    const meta = await sharp(served).metadata()
    expect(meta).toMatchObject({ format: 'jpeg', width: 1600, height: 1200 })
    expect(meta.exif).toBeUndefined()
    const original = await h.api(`/v1/media/${stored.id}/content?original=1`)
    expect(sha(Buffer.from(await original.arrayBuffer()))).toBe(sha(bytes))
    // A signed link gets the stripped rendition, whatever it asks for.
    const link = (await (await h.api(`/v1/media/${stored.id}/links`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { url: string }
    const viaLink = Buffer.from(await (await fetch(`${link.url}&original=1`)).arrayBuffer())
    expect(viaLink.equals(served)).toBe(true)
  })

  it('without ffmpeg a voice note is stored and its derivatives are skipped with a clear reason', async () => {
    const stored = await send(h, 'audio', sampleOgg(203), 'audio/ogg; codecs=opus', { voice: true })
    const res = await h.api(`/v1/media/${stored.id}/preview`)
    expect(res.status).toBe(404)
    const media = (await (await h.api(`/v1/media/${stored.id}`)).json()) as MediaJson
    expect(media.status).toBe('stored')
    expect(media.derivatives?.status).toBe('skipped')
    expect(media.derivatives?.error).toMatch(/ffmpeg is not installed.*MEDIAGATE_FFMPEG/)
  })
})

describe('queued derivations and a contended CPU (MEDIAGATE_DERIVE_YIELD_PRESSURE)', () => {
  // The gateway reads the pressure from this instead of the kernel: the suite's own load would
  // otherwise decide. The kernel's figure is tested in test/jobs/cpu-pressure.test.ts.
  let level = 90
  const pressure = { source: 'test', percent: () => level }

  it('wait while the pressure is at the threshold or above, and run once it falls; the media is stored meanwhile', async () => {
    level = 90
    const h = await startHarness({ env: { MEDIAGATE_DERIVE_YIELD_PRESSURE: '30', MEDIAGATE_DERIVE_YIELD_MAX_MS: '600000' }, cpuPressure: pressure })
    try {
      const stored = await send(h, 'image', sampleJpeg(301), 'image/jpeg')
      expect(stored.status).toBe('stored')
      // Long enough for a derivation to be done here many times over (the engines poll every 50 ms).
      await new Promise((r) => setTimeout(r, 1500))
      expect((await derived(h, stored.id, 0)).derivatives).toEqual({ status: 'pending', error: null })
      level = 29
      expect((await derived(h, stored.id)).derivatives).toEqual({ status: 'done', error: null })
    } finally {
      await h.close()
    }
  })

  it('run anyway once the pressure has lasted MEDIAGATE_DERIVE_YIELD_MAX_MS', async () => {
    level = 90
    const h = await startHarness({ env: { MEDIAGATE_DERIVE_YIELD_PRESSURE: '30', MEDIAGATE_DERIVE_YIELD_MAX_MS: '1000' }, cpuPressure: pressure })
    try {
      const stored = await send(h, 'image', sampleJpeg(302), 'image/jpeg')
      expect((await derived(h, stored.id)).derivatives).toEqual({ status: 'done', error: null })
      expect(level).toBe(90)
    } finally {
      await h.close()
    }
  })

  it('do not wait with MEDIAGATE_DERIVE_YIELD_PRESSURE=0, whatever the pressure', async () => {
    level = 100
    const h = await startHarness({ env: { MEDIAGATE_DERIVE_YIELD_PRESSURE: '0', MEDIAGATE_DERIVE_YIELD_MAX_MS: '600000' }, cpuPressure: pressure })
    try {
      const stored = await send(h, 'image', sampleJpeg(303), 'image/jpeg')
      expect((await derived(h, stored.id)).derivatives).toEqual({ status: 'done', error: null })
    } finally {
      await h.close()
    }
  })
})
