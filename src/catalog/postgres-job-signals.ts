/**
 * Job signals between processes sharing a PostgreSQL catalog: NOTIFY when work is queued, LISTEN
 * in the processes that run engines (as graphile-worker does). One connection per process, of
 * its own, outside the pool: LISTEN holds its session, and NOTIFY goes on the same connection so
 * intake's transactions never wait for a pool slot because of it. The NOTIFY follows the commit
 * of the work (job-signals.ts), so a listener that hears it finds the work. At most one NOTIFY
 * statement is in flight; the topics requested meanwhile go together in the next one, one
 * `pg_notify` each, so a busy intake sends about one statement per round trip, not one per
 * webhook, and not one per topic (intake signals both `media` and `forwards`: two statements per
 * group commit were a seventh of the scale-out path's statements).
 *
 * The payload names the schema, so deployments sharing a database in different schemas do not
 * wake each other. A lost connection is reconnected with backoff (1 s doubling to 30 s); while it
 * is down engines find work by their bounded poll, and every topic fires on reconnection.
 */
import pg from 'pg'
import type { Logger } from '../logging/logger.js'
import { JOB_TOPICS, type JobTopic, type RemoteJobSignals } from './job-signals.js'
import { maskPassword } from './database-url.js'

export const JOB_CHANNEL = 'mediagate_jobs'
const RECONNECT_MIN_MS = 1000
const RECONNECT_MAX_MS = 30_000

export interface PostgresJobSignalsOptions {
  connectionString: string
  schema?: string
  logger?: Logger
  /** What pg_stat_activity shows for the connection; default `mediagate-signals`. */
  applicationName?: string
}

export class PostgresJobSignals implements RemoteJobSignals {
  private client: pg.Client | undefined
  private connecting: Promise<pg.Client> | undefined
  private onTopic: ((topic: JobTopic) => void) | undefined
  /** Topics requested and not sent yet. */
  private readonly waiting = new Set<JobTopic>()
  /** Sends what is waiting, statement after statement, until nothing is. */
  private sender: Promise<void> | undefined
  private reconnectMs = RECONNECT_MIN_MS
  private reconnectTimer: NodeJS.Timeout | undefined
  private closed = false
  private readonly prefix: string

  constructor(private readonly options: PostgresJobSignalsOptions) {
    this.prefix = `${options.schema ?? ''}:`
  }

  listen(onTopic: (topic: JobTopic) => void): void {
    this.onTopic = onTopic
    const client = this.client
    if (!client) {
      void this.connection().catch(() => {})
      return
    }
    // Opened to notify, this connection does not listen yet; once it does, look for what was missed.
    client.query(`listen ${JOB_CHANNEL}`).then(
      () => {
        if (this.client === client) this.lookForMissed()
      },
      (err: unknown) => this.lost(client, err),
    )
  }

  notify(topic: JobTopic): void {
    if (this.closed) return
    this.waiting.add(topic)
    if (!this.sender) this.startSender()
  }

  private startSender(): void {
    // Sent after the current task: the topics one commit signals (intake: two) go in one statement.
    this.sender = Promise.resolve()
      .then(() => this.sendWaiting())
      .finally(() => {
        this.sender = undefined
        // Asked for between the last statement's answer and now.
        if (this.waiting.size > 0 && !this.closed) this.startSender()
      })
  }

  private async sendWaiting(): Promise<void> {
    while (this.waiting.size > 0) {
      const topics = [...this.waiting]
      this.waiting.clear()
      try {
        const client = await this.connection()
        // Separate notifications, as one per statement would be: a listener matches each payload whole.
        const calls = topics.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ')
        await client.query(`select ${calls}`, [JOB_CHANNEL, ...topics.map((topic) => this.prefix + topic)])
      } catch (err) {
        this.options.logger?.debug({ err: this.describe(err) }, 'a job signal was not sent; other processes find the work by polling')
      }
    }
  }

  /** Sends the signals requested so far (a CLI command's `retry` is heard), then disconnects. */
  async close(): Promise<void> {
    while (this.sender) await this.sender
    this.closed = true
    clearTimeout(this.reconnectTimer)
    const client = this.client ?? (await this.connecting?.catch(() => undefined))
    this.client = undefined
    await client?.end().catch(() => {})
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client)
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined))
    return this.connecting
  }

  private async connect(): Promise<pg.Client> {
    if (this.closed) throw new Error('closed')
    // A LISTEN connection is idle for long stretches, which NATs and load balancers end silently
    // (AWS's NLB after 350 s): TCP keepalive from a minute of silence keeps such a path open, and
    // ends the socket (so it reconnects) where the path is gone anyway.
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName ?? 'mediagate-signals',
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 60_000,
    })
    client.on('error', () => this.lost(client))
    client.on('end', () => this.lost(client))
    // This process's own signals come back too (a session hears the NOTIFYs it sends on a channel
    // it listens to); JobSignals has delivered them here already, and hearing them again would
    // wake every engine a second time per intake (claims that find nothing).
    let ownBackend: number | undefined
    client.on('notification', (message) => {
      const payload = message.payload ?? ''
      if (message.processId === ownBackend) return
      if (message.channel !== JOB_CHANNEL || !payload.startsWith(this.prefix)) return
      const topic = payload.slice(this.prefix.length) as JobTopic
      if (JOB_TOPICS.includes(topic)) this.onTopic?.(topic)
    })
    try {
      await client.connect()
      ownBackend = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid
      if (this.onTopic) await client.query(`listen ${JOB_CHANNEL}`)
    } catch (err) {
      await client.end().catch(() => {})
      if (this.onTopic) this.retryLater(err)
      throw err
    }
    if (this.closed) {
      await client.end().catch(() => {})
      throw new Error('closed')
    }
    this.client = client
    this.reconnectMs = RECONNECT_MIN_MS
    this.lookForMissed()
    return client
  }

  /** Whatever was queued while not listening. */
  private lookForMissed(): void {
    if (this.onTopic) for (const topic of JOB_TOPICS) this.onTopic(topic)
  }

  private lost(client: pg.Client, err: unknown = new Error('the connection ended')): void {
    if (this.client !== client) return
    this.client = undefined
    void client.end().catch(() => {})
    if (this.onTopic) this.retryLater(err)
  }

  private retryLater(err: unknown): void {
    if (this.closed || this.reconnectTimer) return
    this.options.logger?.warn({ err: this.describe(err), retryInMs: this.reconnectMs }, 'listening for job signals failed; engines poll until it reconnects')
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      void this.connection().catch(() => {})
    }, this.reconnectMs)
    this.reconnectTimer.unref()
    this.reconnectMs = Math.min(RECONNECT_MAX_MS, this.reconnectMs * 2)
  }

  /** Errors may quote the URL: never its password. */
  private describe(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err)
    return message.split(this.options.connectionString).join(maskPassword(this.options.connectionString))
  }
}
