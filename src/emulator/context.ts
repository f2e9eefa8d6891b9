/** What the emulator's routes share: settings (defaults applied once), state and counters. */
import { MediagateError } from '../errors.js'
import type { FaultBook } from './faults.js'
import type { MediaStore } from './media-store.js'
import type { MessageStore } from './message-store.js'
import type { StatsRecorder } from './stats.js'
import type { EmulatorOptions, FileSizeType } from './types.js'
import type { UrlSigner } from './url-signer.js'

export interface EmulatorSettings {
  host: string
  port: number
  accessToken: string
  /** Every accepted token → its label (`default` for accessToken). */
  tokenLabels: ReadonlyMap<string, string>
  appSecret: string
  graphVersion: string
  urlTtlMs: number
  cdnTtlMs: number
  mediaIdTtlMs: number
  latencyMs: number
  webhookTarget: string | undefined
  fileSizeType: FileSizeType
  now: () => number
  /** Where the media store, messages and URL key are kept across restarts; undefined: in memory only. */
  stateDir: string | undefined
}

export interface EmulatorContext {
  readonly settings: Readonly<EmulatorSettings>
  readonly store: MediaStore
  /** Messenger/Instagram messages sent, for Graph's Message node. */
  readonly messages: MessageStore
  readonly faults: FaultBook
  readonly stats: StatsRecorder
  readonly signer: UrlSigner
}

const MINUTE = 60_000

export function resolveSettings(o: EmulatorOptions): Readonly<EmulatorSettings> {
  const invalid = (why: string) => new MediagateError('invalid_config', `emulator: ${why}`)
  if (!o.accessToken) throw invalid('accessToken is required')
  if (!o.appSecret) throw invalid('appSecret is required')
  const graphVersion = o.graphVersion ?? 'v26.0'
  if (!/^v\d+\.\d+$/.test(graphVersion)) throw invalid(`graphVersion must look like v26.0, got ${graphVersion}`)
  const settings: EmulatorSettings = {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    accessToken: o.accessToken,
    tokenLabels: new Map<string, string>([['default', o.accessToken] as const, ...Object.entries(o.extraAccessTokens ?? {})].map(([label, token]) => [token, label])),
    appSecret: o.appSecret,
    graphVersion,
    urlTtlMs: o.urlTtlMs ?? 5 * MINUTE,
    cdnTtlMs: o.cdnTtlMs ?? 60 * MINUTE,
    mediaIdTtlMs: o.mediaIdTtlMs ?? 7 * 24 * 60 * MINUTE,
    latencyMs: o.latencyMs ?? 0,
    webhookTarget: o.webhookTarget,
    fileSizeType: o.fileSizeType ?? 'number',
    now: o.now ?? Date.now,
    stateDir: o.stateDir,
  }
  for (const key of ['port', 'urlTtlMs', 'cdnTtlMs', 'mediaIdTtlMs', 'latencyMs'] as const) {
    if (!Number.isFinite(settings[key]) || settings[key] < 0) throw invalid(`${key} must be a non-negative number, got ${settings[key]}`)
  }
  if (settings.webhookTarget !== undefined && !/^https?:\/\//.test(settings.webhookTarget)) {
    throw invalid('webhookTarget must be an http(s) URL')
  }
  if (settings.stateDir === '') throw invalid('stateDir must be a directory path')
  for (const [label, token] of Object.entries(o.extraAccessTokens ?? {})) {
    if (!token || label === 'default') throw invalid(`extraAccessTokens.${label}: a non-empty token under any label but "default"`)
  }
  return Object.freeze(settings)
}
