/**
 * Baseline "bare S3 PUTs": what a plain AWS SDK client does against the same S3 server the
 * gateway stores on. N objects of random bytes, each one PutObject under its sha256 fan-out key,
 * `concurrency` in flight; no download, no catalog, no existence check. The bodies and their keys
 * are made before the clock starts, so the client is measured on the PUTs alone.
 *
 * The client is the SDK's own defaults (keep-alive agent, 50 sockets) plus the two settings any
 * client needs for Swift (no aws-chunked uploads, no forced response checksums; see
 * scripts/s3-test-server.sh), not the gateway's client: the gateway is compared with what a
 * bare client gets, whatever the gateway's own tuning.
 */
import { createHash, randomBytes } from 'node:crypto'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { serveParent } from '../lib/child-runtime.js'

export interface S3PutInput {
  endpoint: string
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  bucket: string
  /** Key prefix inside the bucket (no trailing slash). */
  prefix: string
  count: number
  size: number
  concurrency: number
}

export interface S3PutOutput {
  completed: number
  elapsedMs: number
  /** This process's CPU (user + system) during the PUTs, ms. */
  cpuMs: number
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const clients = new Map<string, S3Client>()

function clientFor(input: S3PutInput): S3Client {
  const id = `${input.endpoint} ${input.region}`
  let client = clients.get(id)
  if (!client) {
    client = new S3Client({
      endpoint: input.endpoint,
      region: input.region,
      forcePathStyle: true,
      credentials: input.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    clients.set(id, client)
  }
  return client
}

async function putAll(input: S3PutInput): Promise<S3PutOutput> {
  const client = clientFor(input)
  const objects = Array.from({ length: input.count }, () => {
    const body = randomBytes(input.size)
    const hex = createHash('sha256').update(body).digest('hex')
    return { body, key: `${input.prefix}/sha256/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}` }
  })
  let next = 0
  let completed = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: Math.min(input.concurrency, input.count) }, async () => {
      for (let i = next++; i < objects.length; i = next++) {
        const { body, key } = objects[i]!
        await client.send(new PutObjectCommand({ Bucket: input.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'image/jpeg' }))
        completed++
      }
    }),
  )
  const elapsedMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return { completed, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 }
}

serveParent<Record<string, never>, S3PutInput, S3PutOutput>({
  start: async () => ({}),
  run: putAll,
  stop: async () => {
    for (const client of clients.values()) client.destroy()
  },
})
