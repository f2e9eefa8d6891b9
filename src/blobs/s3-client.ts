/**
 * The S3 client every S3 blob store uses, configured for any S3-compatible server, not only AWS.
 * Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID/…, profiles, instance roles)
 * unless given explicitly; they never appear in our options' string forms or error messages.
 */
import { S3Client } from '@aws-sdk/client-s3'

export interface S3ConnectionOptions {
  /** e.g. `https://<account>.r2.cloudflarestorage.com`, `http://127.0.0.1:8089`; AWS when absent. */
  endpoint?: string
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, else `us-east-1`. */
  region?: string
  /** Path-style URLs (`endpoint/bucket/key`). Default: true with a custom endpoint, false on AWS. */
  forcePathStyle?: boolean
  /** Default: the standard AWS credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

/** Connections per S3 client (so per process) at once. */
const MAX_SOCKETS = 256

export function createS3Client(options: S3ConnectionOptions): S3Client {
  // On Node 20 the SDK prints an 8-line NodeVersionSupportWarning: its versions published after
  // early January 2027 will need Node 22. mediagate pins an exact earlier version for as long as
  // it supports Node 20 (README: Node versions), so the warning is about an upgrade it does not make.
  // AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false shows it anyway.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  return new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // The SDK's defaults send uploads as aws-chunked with a CRC trailer and insist on response
    // checksums: Swift answers 501, and other S3-compatible servers store or return them wrongly.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A stuck store must fail the capture attempt (and be retried), not hang a worker slot. The
    // idle limit also applies to reads we stream to clients: a reader that stops pulling for two
    // minutes (a paused video) loses the stream and resumes with a Range request.
    // Keep-alive sockets (the SDK's default), but more of them than its 50: content served
    // through us holds a socket for as long as its client reads, and 50 slow readers must not
    // leave every capture's PUT waiting for one. Captures alone want up to MEDIAGATE_CONCURRENCY
    // (64 by default) at once.
    requestHandler: {
      connectionTimeout: 10_000,
      socketTimeout: 120_000,
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    },
    maxAttempts: 3,
  })
}
