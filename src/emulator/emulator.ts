/**
 * startEmulator: one node:http server that is Graph, the WhatsApp lookaside, fbcdn and the
 * Instagram lookaside at once, plus the control API. Responses stream; nothing heavy happens
 * per request, so the emulator is never what a benchmark measures.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MediagateError } from '../errors.js'
import { bindPayloads } from './bound-payloads.js'
import { cdnKindOf, cdnRoute } from './cdn-routes.js'
import { type EmulatorContext, resolveSettings } from './context.js'
import { controlRoute } from './control-routes.js'
import { EmulatorState } from './emulator-state.js'
import { FaultBook } from './faults.js'
import { graphError } from './graph-errors.js'
import { graphRoute, graphSegments } from './graph-routes.js'
import { sendJson, waitUnlessClosed } from './http-util.js'
import { MediaStore } from './media-store.js'
import { MessageStore } from './message-store.js'
import { StatsRecorder } from './stats.js'
import type { Emulator, EmulatorOptions } from './types.js'
import { UrlSigner, cdnFamilyFor } from './url-signer.js'
import { postWebhook } from './webhook-sender.js'

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** Route name for the request counters, and whether the route pays the configured latency. */
function routeOf(method: string, pathname: string, isMessage: (id: string) => boolean): { name: string; delayed: boolean } {
  if (pathname === '/_emulator' || pathname.startsWith('/_emulator/')) return { name: 'control', delayed: false }
  const cdn = cdnKindOf(pathname)
  if (cdn) return { name: cdn === 'whatsapp' ? 'whatsapp.download' : `cdn.${cdn}`, delayed: true }
  const segments = graphSegments(pathname)
  if (segments) {
    if (segments.length === 1 && segments[0] === 'me') return { name: 'graph.me', delayed: true }
    if (method === 'GET' && segments[0] !== undefined && isMessage(segments[0])) return { name: 'graph.message', delayed: true }
    if (method === 'POST' && segments.length === 2 && (segments[1] === 'media' || segments[1] === 'message_attachments')) return { name: 'graph.upload', delayed: true }
    return { name: method === 'DELETE' ? 'graph.delete' : 'graph.lookup', delayed: true }
  }
  return { name: 'unknown', delayed: true }
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const settings = resolveSettings(options)
  const server = createServer()
  try {
    await listen(server, settings.port, settings.host)
  } catch (err) {
    throw new MediagateError('invalid_config', `emulator: cannot listen on ${settings.host}:${settings.port}`, { cause: err })
  }
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const baseUrl = `http://${host}:${address.port}`
  let state: EmulatorState | undefined
  try {
    state = settings.stateDir === undefined ? undefined : EmulatorState.open(settings.stateDir)
  } catch (err) {
    server.close()
    throw err
  }
  const signer = new UrlSigner(baseUrl, state?.urlKey)
  const ctx: EmulatorContext = { settings, store: new MediaStore(state), messages: new MessageStore(signer, state), faults: new FaultBook(), stats: new StatsRecorder(), signer }
  if (state) {
    const { media, messages } = state.load()
    ctx.store.restore(media)
    ctx.messages.restore(messages)
  }

  const whatsappUrl = (id: string) => ctx.signer.whatsapp(id, settings.now() + settings.urlTtlMs)

  const emulator: Emulator = {
    url: baseUrl,
    accessToken: settings.accessToken,
    appSecret: settings.appSecret,
    graphVersion: settings.graphVersion,
    addWhatsAppMedia(m) {
      return ctx.store.add({
        ...m,
        platform: 'whatsapp',
        sha256Encoding: m.sha256Encoding ?? 'base64',
        fileSizeType: m.fileSizeType ?? settings.fileSizeType,
        createdAt: settings.now(),
      })
    },
    addCdnMedia(m) {
      const { ttlMs, ...rest } = m
      const media = ctx.store.add({ ...rest, sha256Encoding: 'hex', fileSizeType: settings.fileSizeType, createdAt: settings.now() })
      ctx.store.setUrl(media, emulator.cdnUrl(media.id, ttlMs))
      return media
    },
    media: (id) => ctx.store.get(id),
    whatsappUrl,
    cdnUrl(id, ttlMs = settings.cdnTtlMs) {
      const media = ctx.store.get(id)
      if (!media || media.platform === 'whatsapp') throw new MediagateError('not_found', `emulator: no CDN media ${id}`)
      const expiresAt = settings.now() + ttlMs
      if (media.platform === 'instagram') {
        ctx.store.setExpiry(media, expiresAt)
        return ctx.signer.instagram(media.id)
      }
      const family = cdnFamilyFor('messenger', media.mimeType)
      return ctx.signer.messenger(media.id, family as Exclude<typeof family, 'instagram'>, media.mimeType, expiresAt, media.filename)
    },
    setFaults: (idOrAll, faults) => ctx.faults.set(idOrAll, faults),
    clearFaults: () => ctx.faults.clear(),
    stats: () => ctx.stats.snapshot(),
    resetStats: () => ctx.stats.reset(),
    payloads: bindPayloads({ whatsappUrl, remember: (payload) => ctx.messages.remember(payload) }),
    rememberMessages: (payload) => ctx.messages.remember(payload),
    async sendWebhook(payload, opts = {}) {
      if (!Buffer.isBuffer(payload)) ctx.messages.remember(payload)
      const target = opts.target ?? settings.webhookTarget
      if (target === undefined) throw new MediagateError('bad_request', 'emulator: no webhook target (pass `target` or set `webhookTarget`)')
      const result = await postWebhook(payload, {
        target,
        secret: opts.secret === undefined ? settings.appSecret : opts.secret,
        ...(opts.signatureOverride === undefined ? {} : { signatureOverride: opts.signatureOverride }),
      })
      ctx.stats.webhookSent()
      return result
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => {
      // A bug in a route: answer 500 if we still can, never leave the client hanging.
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'emulator internal error', detail: String(err) } })
      else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl)
    const route = routeOf(req.method ?? 'GET', url.pathname, (id) => ctx.messages.get(id) !== undefined)
    res.once('close', () => ctx.stats.response(route.name, res.statusCode))
    // Which routes saw a token: a page token must reach Graph only, never the CDN.
    if (req.headers.authorization !== undefined) ctx.stats.authorized(route.name)
    if (route.delayed) {
      await waitUnlessClosed(res, settings.latencyMs)
      if (res.destroyed) return
    }
    if (route.name === 'control') return controlRoute(emulator, ctx, req, res, url)
    const cdn = cdnKindOf(url.pathname)
    if (cdn) return cdnRoute(ctx, req, res, url, cdn)
    const segments = graphSegments(url.pathname)
    if (segments) return graphRoute(ctx, req, res, url, segments)
    const e = graphError(2500, { message: `Unknown path components: ${url.pathname}` })
    sendJson(res, 404, e.body)
  }

  return emulator
}
