/**
 * The control API under `/_emulator/` (JSON over HTTP), for sandbox mode and for people
 * developing against `mediagate emulator` from another process:
 *   POST   /_emulator/send         {platform, kind, target?, size?, caption?, file? | bytes_base64?, mime_type?, filename?} → media + signed webhook
 *   GET    /_emulator/stats        counters;  DELETE resets them
 *   GET    /_emulator/faults       current specs;  POST {media?: id | '*', faults} sets;  DELETE clears
 *   POST   /_emulator/media        {platform, mimeType, size? | bytesBase64?, filename?, sha256Encoding?, id?} registers
 *   GET    /_emulator/media/{id}   what the emulator knows about a media
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { MediagateError, toMediagateError } from '../errors.js'
import type { EmulatorContext } from './context.js'
import type { FaultSpec } from './faults.js'
import { readJson, sendJson } from './http-util.js'
import { parseSendRequest, sendSample } from './sample-send.js'
import type { Emulator, RegisteredMedia } from './types.js'

export async function controlRoute(emu: Emulator, ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  try {
    await dispatch(emu, ctx, req, res, url.pathname.slice('/_emulator'.length) || '/')
  } catch (err) {
    const e = toMediagateError(err)
    if (!res.headersSent) sendJson(res, e.status, { error: e.toJSON() })
    else res.destroy()
  }
}

async function dispatch(emu: Emulator, ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const method = req.method ?? 'GET'
  const route = `${method} ${path.replace(/^\/media\/[^/]+$/, '/media/:id')}`
  switch (route) {
    case 'GET /':
      return sendJson(res, 200, { url: emu.url, graph_version: emu.graphVersion })
    case 'POST /send': {
      const body = await readJson(req)
      const request = parseSendRequest(body)
      if (request.target === undefined && ctx.settings.webhookTarget === undefined) {
        throw new MediagateError('bad_request', 'no target: pass "target" or start the emulator with a webhook target')
      }
      return sendJson(res, 200, await sendSample(emu, request))
    }
    case 'GET /stats':
      return sendJson(res, 200, emu.stats())
    case 'DELETE /stats':
      emu.resetStats()
      return sendJson(res, 200, emu.stats())
    case 'GET /faults':
      return sendJson(res, 200, ctx.faults.list())
    case 'POST /faults': {
      const body = (await readJson(req)) as { media?: unknown; faults?: unknown }
      const key = body.media === undefined ? '*' : body.media
      if (typeof key !== 'string' || key === '') throw new MediagateError('bad_request', 'media must be a media id or "*"')
      emu.setFaults(key, (body.faults ?? {}) as FaultSpec)
      return sendJson(res, 200, ctx.faults.list())
    }
    case 'DELETE /faults':
      emu.clearFaults()
      return sendJson(res, 200, {})
    case 'POST /media':
      return sendJson(res, 201, register(emu, await readJson(req)))
    case 'GET /media/:id': {
      const media = emu.media(decodeURIComponent(path.slice('/media/'.length)))
      if (!media) throw new MediagateError('not_found', 'no such emulator media')
      return sendJson(res, 200, media)
    }
    default:
      throw new MediagateError('not_found', `no emulator control route ${route}`)
  }
}

function register(emu: Emulator, body: unknown): RegisteredMedia {
  const b = (body ?? {}) as Record<string, unknown>
  if (typeof b.mimeType !== 'string' || b.mimeType === '') throw new MediagateError('bad_request', 'mimeType is required')
  const content: { bytes?: Buffer; size?: number } = {}
  if (typeof b.bytesBase64 === 'string') content.bytes = Buffer.from(b.bytesBase64, 'base64')
  else if (Number.isSafeInteger(b.size) && (b.size as number) >= 0) content.size = b.size as number
  else throw new MediagateError('bad_request', 'give size (a non-negative integer) or bytesBase64')
  const str = (key: string): string | undefined => (typeof b[key] === 'string' ? (b[key] as string) : undefined)
  const common = { ...content, mimeType: b.mimeType, id: str('id'), filename: str('filename') }
  if (b.platform === 'whatsapp' || b.platform === undefined) {
    return emu.addWhatsAppMedia({
      ...common,
      phoneNumberId: str('phoneNumberId'),
      sha256Encoding: b.sha256Encoding === 'hex' ? 'hex' : 'base64',
      ...(b.fileSizeType === 'string' || b.fileSizeType === 'number' ? { fileSizeType: b.fileSizeType } : {}),
    })
  }
  if (b.platform !== 'messenger' && b.platform !== 'instagram') throw new MediagateError('bad_request', 'platform must be whatsapp, messenger or instagram')
  return emu.addCdnMedia({ ...common, platform: b.platform, ...(typeof b.ttlMs === 'number' ? { ttlMs: b.ttlMs } : {}) })
}
