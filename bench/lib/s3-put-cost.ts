/**
 * The client's CPU per PUT of a 50 KiB body to the S3 test server, by way of doing it:
 * `node dist-bench/bench/lib/s3-put-cost.js [count] [--variant NAME …] [--rounds N]`.
 * Variants: `sdk` (the bare baseline's client: SDK defaults, the SDK hashes the body to sign it),
 * `gateway` (createS3Client and our x-amz-content-sha256 middleware, as S3Put.putWhole did),
 * `direct` (S3Put.putWhole's PUT now: s3-direct-put.ts, the SDK's signer and handler without its stack) and
 * `minimal` (a SigV4-signed PUT by hand on node:http with a keep-alive agent: the floor any client
 * pays for the request). Runs the variants alternately, `rounds` times, 16 PUTs in flight, and
 * prints this process's CPU per PUT (process.cpuUsage) and the Swift processes' CPU per PUT.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { createS3Client } from '../../src/blobs/s3-client.js'
import { prepareDirectPut } from '../../src/blobs/s3-direct-put.js'
import { S3_ENDPOINT } from '../../test/helpers/services.js'
import { createBenchBucket, S3_CREDENTIALS, S3_REGION } from './s3-bench-bucket.js'

const SIZE = 50 * 1024

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { variant: { type: 'string', multiple: true }, rounds: { type: 'string', default: '3' } },
})
const count = Number(positionals[0] ?? 1000)
const variants = values.variant ?? ['sdk', 'gateway', 'direct', 'minimal']

type Put = (key: string, body: Buffer, sha256: string) => Promise<void>

function swiftNs(): number {
  let ns = 0
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (!/swift-(proxy|object|container|account)-server/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) continue
      for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // exited meanwhile
    }
  }
  return ns
}

const sdk = new S3Client({
  endpoint: S3_ENDPOINT,
  region: S3_REGION,
  forcePathStyle: true,
  credentials: S3_CREDENTIALS,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
})
const ours = createS3Client({ endpoint: S3_ENDPOINT, region: S3_REGION, forcePathStyle: true, credentials: S3_CREDENTIALS })
const benchBucket = await createBenchBucket(sdk, 'mg-putcost')
const bucket = benchBucket.name

const puts: Record<string, Put> = {
  async sdk(key, body) {
    await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'image/jpeg' }))
  },
  async gateway(key, body, sha256) {
    const command = new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'image/jpeg' })
    command.middlewareStack.add(
      (next) => (args) => {
        ;(args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = sha256
        return next(args)
      },
      { step: 'build', name: 'mediagateContentSha256' },
    )
    await ours.send(command)
  },
  minimal: minimalPut(),
  async direct(key, body, sha256) {
    direct ??= await prepareDirectPut(ours, bucket)
    await direct!(key, body, sha256, 'image/jpeg')
  },
}
let direct: Awaited<ReturnType<typeof prepareDirectPut>>

/** A SigV4 PUT by hand: the signing key made once a day, one HMAC chain per request. */
function minimalPut(): Put {
  const url = new URL(S3_ENDPOINT)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()
  let day = ''
  let signingKey = Buffer.alloc(0)
  return (key, body, sha256) => {
    const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '')
    if (amzDate.slice(0, 8) !== day) {
      day = amzDate.slice(0, 8)
      signingKey = hmac(hmac(hmac(hmac(`AWS4${S3_CREDENTIALS.secretAccessKey}`, day), S3_REGION), 's3'), 'aws4_request')
    }
    const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
    const headers: Record<string, string> = {
      'content-length': String(body.length),
      'content-type': 'image/jpeg',
      host: url.host,
      'x-amz-content-sha256': sha256,
      'x-amz-date': amzDate,
    }
    const signed = Object.keys(headers).join(';')
    const canonical = ['PUT', path, '', ...Object.entries(headers).map(([k, v]) => `${k}:${v}`), '', signed, sha256].join('\n')
    const scope = `${day}/${S3_REGION}/s3/aws4_request`
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n')
    const signature = createHmac('sha256', signingKey).update(toSign).digest('hex')
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${S3_CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`
    return new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method: 'PUT', path, headers, agent }, (res) => {
        res.resume()
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${res.statusCode}`))))
      })
      req.on('error', reject)
      req.end(body)
    })
  }
}

async function run(variant: string, round: number): Promise<void> {
  const put = puts[variant]!
  const objects = Array.from({ length: count }, () => {
    const body = randomBytes(SIZE)
    const sha256 = createHash('sha256').update(body).digest('hex')
    return { body, sha256, key: `${variant}${round}/sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}` }
  })
  let next = 0
  const load = os.loadavg()[0]!.toFixed(2)
  const swift0 = swiftNs()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < objects.length; i = next++) await put(objects[i]!.key, objects[i]!.body, objects[i]!.sha256)
    }),
  )
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const swift = (swiftNs() - swift0) / 1e6
  process.stdout.write(
    `${variant.padEnd(8)} client ${((cpu.user + cpu.system) / 1000 / count).toFixed(3)} ms/PUT (${(cpu.system / 1000 / count).toFixed(3)} system), Swift ${(swift / count).toFixed(3)} ms/PUT, ${((count * 1000) / ms).toFixed(0)} PUT/s; load ${load}\n`,
  )
}

try {
  for (const v of variants) await run(v, -1) // warm-up
  for (let r = 0; r < Number(values.rounds); r++) for (const v of variants) await run(v, r)
} finally {
  await benchBucket.remove()
  sdk.destroy()
  ours.destroy()
}
