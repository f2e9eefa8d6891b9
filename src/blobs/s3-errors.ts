/**
 * S3 and SDK errors mapped to our vocabulary at the adapter edge. Providers disagree on names
 * (AWS: `NoSuchKey` on GET, a body-less `NotFound` on HEAD; others only the 404), so the status is
 * the fallback. Everything else is `storage` (retryable). The SDK error stays as `cause`, minus
 * the fields some servers echo back from a failed signature check.
 */
import { MediagateError } from '../errors.js'

interface SdkError {
  name?: string
  message?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
}

const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload'])
const BUCKET_MISSING_NAMES = new Set(['NoSuchBucket'])
/** Echoed by S3 on SignatureDoesNotMatch / InvalidAccessKeyId; never worth logging. */
const SENSITIVE_FIELDS = ['SignatureProvided', 'StringToSign', 'StringToSignBytes', 'CanonicalRequest', 'CanonicalRequestBytes', 'AWSAccessKeyId']

export function s3Status(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode
}

export function s3ErrorName(err: unknown): string | undefined {
  const e = err as SdkError | undefined
  return e?.Code ?? e?.name
}

export function isS3NotFound(err: unknown): boolean {
  const name = s3ErrorName(err)
  if (name !== undefined && BUCKET_MISSING_NAMES.has(name)) return false
  return (name !== undefined && NOT_FOUND_NAMES.has(name)) || s3Status(err) === 404
}

/**
 * `not_found` for a missing key, `invalid_config` for a missing bucket (retrying will not create
 * it), `storage` for anything else. `action` says what we were doing ("read", "copy").
 */
export function toStorageError(err: unknown, action: string, key?: string): MediagateError {
  if (err instanceof MediagateError) return err
  scrub(err)
  const name = s3ErrorName(err)
  const status = s3Status(err)
  const vendorCode = name ?? status
  const what = key === undefined ? `S3 ${action}` : `S3 ${action} of ${key}`
  const options = { cause: err, ...(vendorCode !== undefined ? { vendorCode } : {}) }
  if (name !== undefined && BUCKET_MISSING_NAMES.has(name)) {
    return new MediagateError('invalid_config', `${what} failed: the bucket does not exist`, options)
  }
  if (isS3NotFound(err)) return new MediagateError('not_found', key === undefined ? `${what}: not found` : `no blob ${key}`, options)
  const detail = err instanceof Error ? `${name ?? err.name}: ${err.message}` : String(err)
  return new MediagateError('storage', `${what} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`, options)
}

function scrub(err: unknown): void {
  if (typeof err !== 'object' || err === null) return
  for (const field of SENSITIVE_FIELDS) {
    if (field in err) delete (err as Record<string, unknown>)[field]
  }
}
