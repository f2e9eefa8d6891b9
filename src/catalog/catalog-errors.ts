/**
 * Driver errors become `catalog` errors at the edge (503 at intake, a backoff in the worker),
 * keeping the original as `cause` and the engine's code (SQLITE_BUSY, SQLSTATE, ECONNREFUSED)
 * as `vendorCode`. Messages never carry the connection string's password.
 */
import { MediagateError } from '../errors.js'

export function toCatalogError(err: unknown, engine: string, secrets: readonly string[]): MediagateError {
  if (err instanceof MediagateError) return err
  const code = vendorCode(err)
  const message = redact(describe(err), secrets)
  return new MediagateError('catalog', `${engine} catalog: ${message}`, { cause: err, ...(code !== undefined ? { vendorCode: code } : {}) })
}

/** Replaces every occurrence of a secret (raw and URL-encoded) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length === 0) continue
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***')
  }
  return out
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  if (err.message) return err.message
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  const inner = err instanceof AggregateError ? err.errors.find((e): e is Error => e instanceof Error && e.message !== '') : undefined
  return inner?.message ?? vendorCode(err)?.toString() ?? err.name
}

function vendorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' && code.length > 0 ? code : undefined
}
