/**
 * mediagate's Meta emulator: a faithful fake of the Graph media API, the WhatsApp lookaside,
 * the Messenger/Instagram CDNs and Meta's signed webhooks, for tests, benchmarks, sandbox mode
 * and offline development. Published as `mediagate/emulator`.
 */
export { startEmulator } from './emulator.js'
export type {
  AddCdnMedia,
  AddWhatsAppMedia,
  Emulator,
  EmulatorOptions,
  EmulatorStats,
  FaultSpec,
  FileSizeType,
  MediaCounters,
  PayloadBuilders,
  Platform,
  RegisteredMedia,
  SendWebhookOptions,
  Sha256Encoding,
  WebhookResult,
} from './types.js'
export type { MessagingMediaOptions, WhatsAppMediaOptions } from './bound-payloads.js'
export * from './webhook-payloads.js'
export { metaJson, sign, signSha1, verifySignature } from './signing.js'
export { postWebhook, webhookBody } from './webhook-sender.js'
export { generatedBytes } from './byte-source.js'
export { bytesOf, streamOf } from './media-bytes.js'
export { SAMPLE_MIME, type SampleKind, sampleFile, sampleJpeg, sampleMp4, sampleOgg, samplePdf, samplePng, sampleWebp } from './sample-media.js'
export { graphError, unsupportedGetRequest } from './graph-errors.js'
