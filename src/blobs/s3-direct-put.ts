/**
 * One PutObject of a body held in memory whose sha256 we know, without the SDK's per-request
 * middleware stack. That stack (about 50 middlewares, schema serialization, endpoint rules, retry
 * bookkeeping, response parsing) cost the gateway 1.5–2.3 ms of CPU per 50 KiB PUT against
 * 0.5 ms for the signed request itself, and on a machine the S3 server shares every millisecond
 * of client CPU is one the server lacks.
 *
 * Everything that decides what the request is stays the SDK's, taken from the client's resolved
 * configuration: the endpoint (its rules, resolved once per bucket: path or virtual-host style,
 * FIPS, dual-stack), the credentials provider (the standard chain, refreshed as it refreshes),
 * the SigV4 signer with S3's settings, the clock-skew offset it learned, and its HTTP handler
 * (our agent and timeouts). Signed headers carry the body's sha256 as `x-amz-content-sha256`,
 * which the server checks against the bytes it receives before storing anything.
 *
 * The SDK's retries are kept in their simplest form: a network error or a 500/503 is retried up
 * to `maxAttempts` in all, with a short backoff (the body is a buffer, so sending it again is
 * safe and the put stays atomic at its key). Anything else fails the put, as an error that
 * toStorageError reads as it reads the SDK's (`name` = the S3 error code, `$metadata`).
 * A bucket whose endpoint needs another auth scheme (S3 Express, multi-region access points)
 * is not handled here: `prepare` answers undefined and the caller uses the SDK.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getEndpointFromInstructions } from '@smithy/core/endpoints'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentityProvider, ChecksumConstructor, HashConstructor, HttpRequest } from '@smithy/types'

export type DirectPut = (objectKey: string, body: Buffer, sha256: string, contentType: string | undefined) => Promise<void>

/** What the SDK error handling reads: the S3 error code as `name`, the HTTP status in `$metadata`. */
export class S3PutError extends Error {
  readonly $metadata: { httpStatusCode: number }
  constructor(code: string, message: string, status: number) {
    super(message)
    this.name = code
    this.$metadata = { httpStatusCode: status }
  }
}

interface ResolvedConfig {
  credentials: AwsCredentialIdentityProvider
  sha256: ChecksumConstructor | HashConstructor
  requestHandler: { handle(request: HttpRequest, options?: { abortSignal?: AbortSignal }): Promise<{ response: HttpResponseLike }> }
  systemClockOffset?: number
  maxAttempts?: number | (() => Promise<number>)
}

interface HttpResponseLike {
  statusCode: number
  body: AsyncIterable<Buffer | Uint8Array> & { resume?(): void }
}

/** The direct PUT for `bucket` on `client`, or undefined when its endpoint wants more than plain SigV4. */
export async function prepareDirectPut(client: S3Client, bucket: string): Promise<DirectPut | undefined> {
  const config = client.config as unknown as ResolvedConfig
  const endpoint = await getEndpointFromInstructions({ Bucket: bucket, Key: 'k' }, PutObjectCommand, client.config as never)
  const schemes = (endpoint.properties?.authSchemes ?? []) as { name?: string; signingName?: string; signingRegion?: string }[]
  const scheme = schemes[0]
  if (!scheme || scheme.name !== 'sigv4' || Object.keys(endpoint.headers ?? {}).length > 0) return undefined
  const url = endpoint.url
  const base = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`
  const signer = new SignatureV4({
    credentials: config.credentials,
    region: scheme.signingRegion ?? 'us-east-1',
    service: scheme.signingName ?? 's3',
    sha256: config.sha256,
    // S3 signs the path as sent, not encoded twice (the SDK's signingEscapePath for S3).
    uriEscapePath: false,
    applyChecksum: false,
  })
  const maxAttempts = typeof config.maxAttempts === 'function' ? await config.maxAttempts() : (config.maxAttempts ?? 3)
  const port = url.port ? Number(url.port) : undefined

  return async (objectKey, body, sha256, contentType) => {
    const request: HttpRequest = {
      method: 'PUT',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(port !== undefined ? { port } : {}),
      path: `${base}${objectKey.split('/').map(encodeKeySegment).join('/')}`,
      query: {},
      headers: {
        host: url.host,
        'content-length': String(body.length),
        'x-amz-content-sha256': sha256,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      body,
    }
    for (let attempt = 1; ; attempt++) {
      let status: number
      let text: string
      try {
        const signed = (await signer.sign(request, { signingDate: new Date(Date.now() + (config.systemClockOffset ?? 0)) })) as HttpRequest
        const { response } = await config.requestHandler.handle(signed)
        status = response.statusCode
        text = status >= 200 && status < 300 ? (drain(response.body), '') : await readText(response.body)
      } catch (err) {
        if (attempt >= maxAttempts || !isRetryableNetworkError(err)) throw err
        await backoff(attempt)
        continue
      }
      if (status >= 200 && status < 300) return
      if ((status === 500 || status === 503) && attempt < maxAttempts) {
        await backoff(attempt)
        continue
      }
      throw responseError(status, text)
    }
  }
}

/** As the SDK encodes a key segment: RFC 3986, so `!'()*` too. */
function encodeKeySegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function responseError(status: number, xml: string): S3PutError {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? `Http${status}`
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? `HTTP ${status}`
  return new S3PutError(code, message, status)
}

function drain(body: HttpResponseLike['body']): void {
  if (typeof body.resume === 'function') body.resume()
}

async function readText(body: HttpResponseLike['body']): Promise<string> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of body) {
    // An error document is small; more than 64 KiB is not one worth keeping.
    if (bytes < 65_536) chunks.push(Buffer.from(chunk))
    bytes += chunk.length
  }
  return Buffer.concat(chunks).toString('utf8')
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN'])

function isRetryableNetworkError(err: unknown): boolean {
  const e = err as { code?: string; name?: string } | undefined
  return (e?.code !== undefined && RETRYABLE_CODES.has(e.code)) || e?.name === 'TimeoutError'
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** attempt))
}
