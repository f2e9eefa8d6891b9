/**
 * The malware scan as mediagate uses it: a blob's bytes streamed from the store to clamd, the
 * verdict as a ScanResult, and the oversize rule. Bytes larger than clamd's stream limit cannot
 * be scanned: MEDIAGATE_CLAMAV_OVERSIZE says whether that fails the media (`fail`, the default)
 * or lets it through marked `skipped` (`pass`), never silently.
 */
import type { BlobStore } from '../blobs/blob-store.js'
import { MediagateError, toMediagateError } from '../errors.js'
import type { ScanResult, ScanStatus } from '../media/record.js'
import type { ClamdClient } from './clamd-client.js'

export const OVERSIZE_CHOICES = ['fail', 'pass'] as const
export type OversizeChoice = (typeof OVERSIZE_CHOICES)[number]

export interface ScannerOptions {
  client: ClamdClient
  /** clamd's `StreamMaxLength` (MEDIAGATE_CLAMAV_STREAM_MAX_BYTES). */
  streamMaxBytes: number
  oversize: OversizeChoice
  now?: () => Date
}

/** Observes every scan: its result (`error` when it threw) and how long it took (metrics). */
export type ScanObserver = (result: ScanStatus, seconds: number) => void

/** How long clamd's VERSION answer is reused: it changes only when signatures are reloaded. */
const ENGINE_TTL_MS = 60_000

export class Scanner {
  private engineCache: { value: string; at: number } | undefined
  private readonly observers: ScanObserver[] = []

  constructor(private readonly options: ScannerOptions) {}

  get target(): string {
    return this.options.client.target
  }

  observe(observer: ScanObserver): void {
    this.observers.push(observer)
  }

  /** Throws `scanner` when clamd does not answer PING. */
  ping(signal?: AbortSignal): Promise<void> {
    return this.options.client.ping(signal)
  }

  /** clamd's engine and signature version, asked at most once a minute. */
  async engine(signal?: AbortSignal): Promise<string> {
    const cached = this.engineCache
    if (cached && Date.now() - cached.at < ENGINE_TTL_MS) return cached.value
    const value = await this.options.client.version(signal)
    this.engineCache = { value, at: Date.now() }
    return value
  }

  /** Forgets the engine version (after a RELOAD: new signatures). */
  forgetEngine(): void {
    this.engineCache = undefined
  }

  /**
   * Scans the blob at `key` (`size` bytes). Resolves with `clean`, `infected` (and the signature)
   * or `skipped` (oversize under `pass`); throws `too_large_to_scan` (oversize under `fail`),
   * `scanner` (clamd down, slow or failing) or the blob store's own error.
   */
  async scanBlob(blobs: Pick<BlobStore, 'read'>, key: string, size: number, signal?: AbortSignal): Promise<ScanResult> {
    const started = process.hrtime.bigint()
    let status: ScanStatus = 'error'
    try {
      const result = await this.scan(blobs, key, size, signal)
      status = result.status
      return result
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      for (const observer of this.observers) observer(status, seconds)
    }
  }

  private async scan(blobs: Pick<BlobStore, 'read'>, key: string, size: number, signal?: AbortSignal): Promise<ScanResult> {
    const now = this.options.now ?? (() => new Date())
    const engine = await this.engine(signal)
    if (size > this.options.streamMaxBytes) return this.oversize(size, engine)
    const body = await blobs.read(key)
    let verdict
    try {
      verdict = await this.options.client.scan(body, signal)
    } catch (err) {
      const error = toMediagateError(err, 'scanner')
      // clamd's own limit is lower than the one configured here: the same choice applies.
      if (error.code === 'too_large_to_scan') return this.oversize(size, engine, error)
      throw error
    }
    if (verdict.infected) return { status: 'infected', engine, scannedAt: now(), signature: verdict.signature, releasedAt: null }
    return { status: 'clean', engine, scannedAt: now(), signature: null, releasedAt: null }
  }

  private oversize(size: number, engine: string, cause?: MediagateError): ScanResult {
    if (this.options.oversize === 'pass') return { status: 'skipped', engine, scannedAt: null, signature: null, releasedAt: null }
    throw new MediagateError('too_large_to_scan', `the media (${size} bytes) is larger than clamd's stream limit (${this.options.streamMaxBytes} bytes) and MEDIAGATE_CLAMAV_OVERSIZE is fail`, {
      vendorCode: 'StreamMaxLength',
      ...(cause ? { cause } : {}),
    })
  }
}
