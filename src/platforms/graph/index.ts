/** The WhatsApp Cloud API media client (Graph API) and what it needs to hand out. */
export { GraphMediaClient, type GraphMediaClientOptions } from './graph-media-client.js'
export type { MediaInfo } from './media-info.js'
export { normalizeSha256 } from './sha256.js'
export { graphError, parseGraphEnvelope, redactToken, type GraphErrorEnvelope } from './graph-errors.js'
export { GraphClients, type GraphClientsOptions } from './graph-clients.js'
