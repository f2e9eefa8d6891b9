// In your own route handler (Express, Next.js, Fastify…): check Meta's signature over the raw
// bytes, then normalize the payload into one entry per attachment.
import { type NewMedia, parseWebhook, verifySignature } from '../src/index.js'

export function handleMetaWebhook(rawBody: Buffer, signatureHeader: string | undefined, appSecret: string): { status: number; media: NewMedia[] } {
  if (!verifySignature(rawBody, signatureHeader, [appSecret])) return { status: 401, media: [] }
  const parsed = parseWebhook(JSON.parse(rawBody.toString('utf8')), { receivedAt: new Date() })
  // parsed.media: platform, message id, kind, declared mime/sha256, and the media id or CDN URL to fetch.
  return { status: 200, media: parsed.media }
}
