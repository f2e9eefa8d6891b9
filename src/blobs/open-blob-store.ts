/**
 * `MEDIAGATE_STORAGE_URL` → a blob store:
 * - `file:/abs/path`, `file:relative/path` (resolved against the working directory) or
 *   `file:///abs/path` → DiskBlobStore;
 * - `s3://bucket/optional/prefix[?endpoint=…&region=…&forcePathStyle=true&redirect=true]` →
 *   S3BlobStore. Options passed in code win over the query. Credentials come from the standard
 *   AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles) and are refused in the
 *   URL, which ends up in logs and process listings.
 * The store is returned unprepared: call `init()` before use. `parseStorageUrl` is the parsing
 * alone: the configuration checks the URL with it when it loads.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MediagateError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { BlobStore } from './blob-store.js'
import { DiskBlobStore } from './disk-blob-store.js'
import { isSafeKey } from './path-guard.js'
import { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js'

export interface OpenBlobStoreOptions {
  logger?: Pick<Logger, 'warn'>
  /** S3 only: the server's URL, for anything but AWS (R2, B2, Ceph, Swift, MinIO). */
  endpoint?: string
  /** S3 only. Default: true with a custom endpoint. */
  forcePathStyle?: boolean
  /** S3 only. Default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1. */
  region?: string
  /** S3 only: serve content by redirecting to presigned URLs. Default false. */
  redirect?: boolean
  /** S3 only: explicit credentials instead of the AWS chain (tests, embedding). */
  credentials?: S3BlobStoreOptions['credentials']
}

/** What a storage URL names, parsed and checked (the configuration does it once, at load). */
export type StorageTarget =
  | { kind: 'disk'; root: string }
  | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region?: string; forcePathStyle?: boolean; redirect?: boolean }

/** `name` is what messages call the value: the variable, or the flag it came from. */
export function parseStorageUrl(storageUrl: string, name = 'MEDIAGATE_STORAGE_URL'): StorageTarget {
  const url = storageUrl.trim()
  if (url.startsWith('file:')) return { kind: 'disk', root: diskRoot(url, name) }
  if (url.startsWith('s3://')) return s3Target(url, name)
  throw new MediagateError('invalid_config', `${name} must start with file: or s3://, got ${JSON.stringify(url.split(':')[0] ?? '')}:…`)
}

// Async so that a backend needing I/O to open (a future one) does not change the signature.
export async function openBlobStore(storage: string | StorageTarget, options: OpenBlobStoreOptions = {}): Promise<BlobStore> {
  const target = typeof storage === 'string' ? parseStorageUrl(storage) : storage
  if (target.kind === 'disk') return new DiskBlobStore(target.root)
  return new S3BlobStore(s3Options(target, options))
}

function diskRoot(url: string, name: string): string {
  const rest = url.slice('file:'.length)
  if (rest === '') throw new MediagateError('invalid_config', `${name} file: needs a directory, e.g. file:/var/lib/mediagate/blobs`)
  // file:// is a real URL (percent-encoded); file:<path> is a plain path, as the config writes it.
  if (rest.startsWith('//')) {
    try {
      return fileURLToPath(url)
    } catch (err) {
      throw new MediagateError('invalid_config', `${name} is not a valid file URL: ${(err as Error).message}`, { cause: err })
    }
  }
  return path.resolve(rest)
}

function s3Target(raw: string, name: string): StorageTarget {
  let url: URL
  try {
    url = new URL(raw)
  } catch (err) {
    throw new MediagateError('invalid_config', `${name} is not a valid s3:// URL`, { cause: err })
  }
  if (url.username || url.password) {
    throw new MediagateError('invalid_config', `${name} must not contain credentials: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`)
  }
  const bucket = url.hostname
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new MediagateError('invalid_config', `${name}: ${JSON.stringify(bucket)} is not a valid bucket name`)
  }
  const q = url.searchParams
  const known = new Set(['endpoint', 'region', 'forcePathStyle', 'redirect'])
  const unknown = [...q.keys()].filter((k) => !known.has(k))
  if (unknown.length > 0) throw new MediagateError('invalid_config', `${name}: unknown option ${unknown.join(', ')} (known: ${[...known].join(', ')})`)
  const endpoint = q.get('endpoint') ?? undefined
  const region = q.get('region') ?? undefined
  const forcePathStyle = flag(q, 'forcePathStyle', name)
  const redirect = flag(q, 'redirect', name)
  let prefix: string
  try {
    prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '')
  } catch (err) {
    throw new MediagateError('invalid_config', `${name}: the prefix is not valid percent-encoding`, { cause: err })
  }
  if (prefix !== '' && !isSafeKey(prefix)) {
    throw new MediagateError('invalid_config', `${name}: the prefix must be /-separated segments of [A-Za-z0-9._-] not starting with a dot`)
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
    ...(redirect !== undefined ? { redirect } : {}),
  }
}

/** Options passed in code win over the URL's query. */
function s3Options(target: Extract<StorageTarget, { kind: 's3' }>, options: OpenBlobStoreOptions): S3BlobStoreOptions {
  const endpoint = options.endpoint ?? target.endpoint
  const region = options.region ?? target.region
  const forcePathStyle = options.forcePathStyle ?? target.forcePathStyle
  const redirect = options.redirect ?? target.redirect
  return {
    bucket: target.bucket,
    prefix: target.prefix,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
    ...(redirect !== undefined ? { redirect } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  }
}

function flag(q: URLSearchParams, option: string, name: string): boolean | undefined {
  const v = q.get(option)
  if (v === null) return undefined
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0') return false
  throw new MediagateError('invalid_config', `${name}: ${option} must be true or false`)
}
