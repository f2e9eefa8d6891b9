/**
 * Real services the suites need. In CI (CI=true) a missing service is a failure; elsewhere the
 * suites that need it are skipped with a message that says why and how to start it.
 */
import net from 'node:net'

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1'

export const POSTGRES_URL = process.env.MEDIAGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const S3_ENDPOINT = process.env.MEDIAGATE_TEST_S3_ENDPOINT ?? 'http://127.0.0.1:8089'

/** True when something accepts TCP connections on host:port within the timeout. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Resolves to true when the service answers. When it does not: throws in CI, otherwise prints
 * why the suite is skipped and resolves to false (use with `describe.skipIf(!available)`).
 */
export async function requireService(name: string, url: string, howToStart: string): Promise<boolean> {
  const u = new URL(url)
  const port = Number(u.port || (u.protocol === 'postgres:' ? 5432 : 80))
  if (await canConnect(u.hostname, port)) return true
  const message = `${name} is not reachable at ${u.host}: ${howToStart}`
  if (IN_CI) throw new Error(`${message} (CI requires it)`)
  console.warn(`SKIPPED: ${message}`)
  return false
}

export const postgresAvailable = () =>
  requireService('PostgreSQL', POSTGRES_URL, 'start it or set MEDIAGATE_TEST_POSTGRES_URL; the PostgreSQL suites are skipped')

export const s3Available = () =>
  requireService('the S3 test server', S3_ENDPOINT, 'run `scripts/s3-test-server.sh start` or set MEDIAGATE_TEST_S3_ENDPOINT; the S3 suites are skipped')
