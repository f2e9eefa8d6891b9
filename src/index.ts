/**
 * mediagate's library API. Everything here is usable without the server: an Express or Next.js
 * route can verify and normalize Meta webhooks, a script can resolve and stream one WhatsApp
 * media id, and `createGateway` builds the whole gateway in-process.
 */
export { verifySignature, signPayload } from './platforms/signature.js'
export { parseWebhook } from './platforms/webhook/parse-webhook.js'
export type * from './platforms/webhook/types.js'
export { GraphMediaClient, normalizeSha256, type MediaInfo, type GraphMediaClientOptions } from './platforms/graph/index.js'
export { Fetcher, type FetcherOptions, type FetchRequest, type FetchResponse } from './fetch/index.js'
export { createGateway, type Gateway, type GatewayOptions } from './gateway.js'
export type { CpuPressure } from './jobs/cpu-pressure.js'
export type { ForwardBlock, ForwardedMedia } from './forwarding/forward-body.js'
export { loadConfig, type ConfigSources } from './config/load-config.js'
export type { Config } from './config/options.js'
export { MediagateError, ERROR_CODES, isMediagateError, type ErrorCode } from './errors.js'
export type { MediaRecord, NewMedia, MediaKind, MediaStatus, Platform, Direction, MediaError } from './media/record.js'
export type { Catalog, MediaFilter, Settlement } from './catalog/catalog.js'
export type { BlobStore, PutOptions, PutResult, ByteRange } from './blobs/blob-store.js'
export { openCatalog } from './catalog/open-catalog.js'
export { openBlobStore } from './blobs/open-blob-store.js'
export { USER_AGENT, VERSION } from './version.js'
export { startTracing, type Tracing } from './tracing/index.js'
export { uploadMedia, type UploadOptions, type UploadResult } from './outbound/upload.js'
export type { HandleAnswer, HandleRequest } from './outbound/handles.js'
export type { MediaHandle } from './catalog/catalog.js'
