import { describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { quarantineKeyFor, sha256FromKey } from '../../src/blobs/keys.js'
import { isSafeKey } from '../../src/blobs/path-guard.js'
import { isS3NotFound, toStorageError } from '../../src/blobs/s3-errors.js'
import { MediagateError } from '../../src/errors.js'

/** Shaped like the SDK's ServiceException: name, message, $metadata, and the parsed XML fields. */
function sdkError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} message`), { name, $fault: 'client', $metadata: { httpStatusCode: status }, ...extra })
}

describe('blob keys', () => {
  const hex = '0123456789abcdef'.repeat(4)

  it('reads the sha256 back from a content-addressed key', () => {
    expect(sha256FromKey(blobKeyFor(hex))).toBe(hex)
    expect(sha256FromKey(`sha256/01/24/${hex}`)).toBeUndefined()
    expect(sha256FromKey(`sha256/01/23/${hex.toUpperCase()}`)).toBeUndefined()
    expect(sha256FromKey('readyz-probe')).toBeUndefined()
    expect(sha256FromKey(`quarantine/${blobKeyFor(hex)}.1`)).toBeUndefined()
  })

  it('names quarantined blobs by key and time, within the path guard', () => {
    const key = quarantineKeyFor(blobKeyFor(hex), new Date('2026-03-04T05:06:07.089Z'))
    expect(key).toBe(`quarantine/${blobKeyFor(hex)}.20260304T050607089Z`)
    expect(isSafeKey(key)).toBe(true)
  })
})

describe('S3 error mapping', () => {
  it('maps the not-found spellings of different providers to not_found', () => {
    for (const err of [sdkError('NoSuchKey', 404), sdkError('NotFound', 404), sdkError('UnknownError', 404)]) {
      expect(isS3NotFound(err)).toBe(true)
      const mapped = toStorageError(err, 'read', 'sha256/aa/bb/x')
      expect(mapped.code).toBe('not_found')
      expect(mapped.cause).toBe(err)
    }
  })

  it('maps a missing bucket to invalid_config, not to a missing key', () => {
    const err = sdkError('NoSuchBucket', 404)
    expect(isS3NotFound(err)).toBe(false)
    expect(toStorageError(err, 'read', 'k').code).toBe('invalid_config')
  })

  it('maps everything else to retryable storage, keeping the vendor code and cause', () => {
    const err = sdkError('SlowDown', 503)
    const mapped = toStorageError(err, 'upload')
    expect(mapped).toBeInstanceOf(MediagateError)
    expect(mapped).toMatchObject({ code: 'storage', retryable: true, vendorCode: 'SlowDown' })
    expect(mapped.message).toContain('HTTP 503')
    expect(mapped.cause).toBe(err)
    const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8089'), { code: 'ECONNREFUSED' })
    expect(toStorageError(network, 'stat', 'k')).toMatchObject({ code: 'storage' })
  })

  it('strips echoed signature material from the cause', () => {
    const err = sdkError('SignatureDoesNotMatch', 403, { SignatureProvided: 'deadbeef', StringToSign: 'AWS4-HMAC-SHA256…', CanonicalRequest: 'GET /…' })
    const mapped = toStorageError(err, 'stat', 'k')
    expect(mapped.code).toBe('storage')
    expect(JSON.stringify({ message: mapped.message, cause: mapped.cause })).not.toMatch(/deadbeef|AWS4-HMAC|CanonicalRequest|StringToSign/)
  })

  it('passes our own errors through', () => {
    const ours = new MediagateError('too_large', 'big')
    expect(toStorageError(ours, 'upload')).toBe(ours)
  })
})
