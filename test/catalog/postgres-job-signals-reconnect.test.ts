/**
 * The LISTEN/NOTIFY connection of PostgresJobSignals when it dies: killed by the server
 * (pg_terminate_backend, as a restart or an administrator would), or refused for a while (a TCP
 * forwarder taken down). A listener hears every topic once on reconnecting, then other
 * instances' NOTIFYs; a process that only queues work reconnects on its next signal; the backoff
 * doubles to its cap and stops on close(). A pg Client's 'error' that nobody heard would end
 * this process, which vitest reports as a failed run.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { JOB_TOPICS, type JobTopic } from '../../src/catalog/job-signals.js'
import { PostgresJobSignals, type PostgresJobSignalsOptions } from '../../src/catalog/postgres-job-signals.js'
import { uniqueSchemaName } from '../helpers/postgres.js'
import { POSTGRES_URL, postgresAvailable } from '../helpers/services.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { until } from '../helpers/until.js'

const available = await postgresAvailable()
const ALL = [...JOB_TOPICS].sort()
// Taken before any test fakes timers: the bound on every wait stays real.
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout

/** `promise`, or a failure naming `what` once `ms` have passed. */
function within<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = realSetTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => realClearTimeout(timer))
}

/** Everything pushed so far, and a promise for the first item (from the start) that matches. */
function recording<T>() {
  const items: T[] = []
  const waiters: { match: (item: T, index: number) => boolean; resolve: (item: T) => void }[] = []
  return {
    items,
    push(item: T) {
      items.push(item)
      for (const w of [...waiters]) {
        if (w.match(item, items.length - 1)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(item)
        }
      }
    },
    /** The first item from index `from` on that matches. */
    next(what: string, match: (item: T) => boolean = () => true, from = 0): Promise<T> {
      const found = items.slice(from).find(match)
      if (found !== undefined) return Promise.resolve(found)
      return within(new Promise<T>((resolve) => waiters.push({ match: (item, index) => index >= from && match(item), resolve })), what)
    },
  }
}

/** A listener's topics; `heard(n)` resolves once it has heard n in all. */
function topics() {
  const r = recording<JobTopic>()
  return {
    onTopic: (topic: JobTopic) => r.push(topic),
    all: r.items,
    heard: (count: number, what: string) => r.next(what, () => true, count - 1).then(() => r.items.slice()),
  }
}

type LogLine = Record<string, unknown> & { msg?: string; retryInMs?: number }

/** A logger that keeps its lines, raw (to look for secrets) and parsed. */
function capturingLogger() {
  const raw: string[] = []
  const lines = recording<LogLine>()
  const logger = pino({ level: 'debug' }, { write: (s: string) => (raw.push(s), lines.push(JSON.parse(s) as LogLine)) })
  return { logger, raw, lines }
}

describe.skipIf(!available)('job signals on PostgreSQL when the connection dies', () => {
  let admin: pg.Client
  const opened: PostgresJobSignals[] = []
  const proxies: TcpProxy[] = []
  const target = new URL(POSTGRES_URL)

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 })
    await admin.connect()
  })
  afterEach(async () => {
    vi.useRealTimers()
    for (const signals of opened.splice(0)) await signals.close()
    for (const proxy of proxies.splice(0)) await proxy.close()
  })
  afterAll(async () => {
    await admin?.end()
  })

  /** An application name no other test's connection has, to find (and kill) this one's backend. */
  const appName = () => `mg-signals-test-${randomBytes(5).toString('hex')}`

  function open(options: Partial<PostgresJobSignalsOptions> & { schema: string }): PostgresJobSignals {
    const signals = new PostgresJobSignals({ connectionString: POSTGRES_URL, ...options })
    opened.push(signals)
    return signals
  }

  async function backendPids(applicationName: string): Promise<number[]> {
    const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [applicationName])
    return rows.map((r) => r.pid)
  }

  /** Kills the one backend of `applicationName` and returns its pid. */
  async function kill(applicationName: string): Promise<number> {
    const pids = await backendPids(applicationName)
    expect(pids).toHaveLength(1)
    const { rows } = await admin.query<{ killed: boolean }>('select pg_terminate_backend($1) as killed', [pids[0]])
    expect(rows[0]?.killed).toBe(true)
    return pids[0]!
  }

  /** The one backend of `applicationName`, once it is another than `old`. */
  const replacedBackend = (applicationName: string, old: number) =>
    until(`a new backend for ${applicationName}`, async () => {
      const pids = await backendPids(applicationName)
      return pids.length === 1 && pids[0] !== old && pids[0]
    })

  async function viaProxy(): Promise<{ proxy: TcpProxy; url: string; secret: string }> {
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    proxies.push(proxy)
    const url = new URL(POSTGRES_URL)
    url.hostname = proxy.host
    url.port = String(proxy.port)
    // With trust auth the server never asks for it; it is here to be kept out of the logs.
    if (!url.password) url.password = `secret${randomBytes(4).toString('hex')}`
    return { proxy, url: url.toString(), secret: decodeURIComponent(url.password) }
  }

  /** A listener with its own application name and a log to read, once it has heard the topics of its first connection. */
  async function connectedListener() {
    const schema = uniqueSchemaName()
    const name = appName()
    const log = capturingLogger()
    const listener = open({ schema, applicationName: name, logger: log.logger })
    const heard = topics()
    listener.listen(heard.onTopic)
    const first = await heard.heard(3, 'the topics on connecting')
    return { schema, name, log, listener, heard, first }
  }

  it('a listener whose backend is killed hears every topic once on reconnecting, then the NOTIFYs of another instance', async () => {
    const { schema, name, log, heard, first } = await connectedListener()
    expect([...first].sort()).toEqual(ALL)

    const old = await kill(name)
    const all = await heard.heard(6, 'the topics on reconnecting')
    expect(all.slice(3).sort()).toEqual(ALL)
    await replacedBackend(name, old)
    expect(log.lines.items.filter((l) => l.msg?.startsWith('listening for job signals failed')).map((l) => l.retryInMs)).toEqual([1000])

    const sender = open({ schema, applicationName: appName() })
    sender.notify('forwards')
    // The next topic heard is the NOTIFY: reconnecting fired each topic once, not more.
    expect((await heard.heard(7, "the other instance's NOTIFY"))[6]).toBe('forwards')
  })

  it("a listener does not hear its own NOTIFYs back (they were delivered in the process), only the other instances'", async () => {
    const { schema, listener, heard } = await connectedListener()
    const other = open({ schema, applicationName: appName() })
    const otherHeard = topics()
    other.listen(otherHeard.onTopic)
    await otherHeard.heard(3, 'the topics on connecting')
    listener.notify('media')
    // The other listener hearing it shows PostgreSQL delivered it; ours would have come with it.
    expect((await otherHeard.heard(4, "the first listener's NOTIFY"))[3]).toBe('media')
    await new Promise((r) => setTimeout(r, 300))
    expect(heard.all).toHaveLength(3)
    other.notify('tasks')
    expect((await heard.heard(4, "the other instance's NOTIFY"))[3]).toBe('tasks')
    expect(otherHeard.all).toHaveLength(4)
  })

  it('a process that only queues work survives its connection being killed, and its later signals are heard', async () => {
    const schema = uniqueSchemaName()
    const listener = open({ schema, applicationName: appName() })
    const heard = topics()
    listener.listen(heard.onTopic)
    await heard.heard(3, 'the topics on connecting')
    const name = appName()
    const sender = open({ schema, applicationName: name })
    sender.notify('media')
    expect((await heard.heard(4, 'the first NOTIFY'))[3]).toBe('media')

    const old = await kill(name)
    // A signal sent before the sender has seen its connection die is lost (the engines' poll
    // finds such work): send until one is heard.
    await until('a signal sent after the kill', () => {
      sender.notify('tasks')
      return heard.all.slice(4).includes('tasks')
    })
    await replacedBackend(name, old)
  })

  it('a listener cut off while PostgreSQL refuses connections retries, hears every topic once it accepts, and logs no password', async () => {
    const schema = uniqueSchemaName()
    const { proxy, url, secret } = await viaProxy()
    const log = capturingLogger()
    const listener = new PostgresJobSignals({ connectionString: url, schema, logger: log.logger })
    opened.push(listener)
    const heard = topics()
    listener.listen(heard.onTopic)
    await heard.heard(3, 'the topics on connecting')

    await proxy.down()
    const failed = (retryInMs: number) => (l: LogLine) => l.msg?.startsWith('listening for job signals failed') === true && l.retryInMs === retryInMs
    await log.lines.next('the connection to be lost', failed(1000))
    const refused = await log.lines.next('a refused reconnection', failed(2000))
    expect(String(refused['err'])).toMatch(/ECONNREFUSED/)
    expect(heard.all).toHaveLength(3)
    await proxy.up()
    expect((await heard.heard(6, 'the topics once it accepts')).slice(3).sort()).toEqual(ALL)
    open({ schema }).notify('media')
    expect((await heard.heard(7, 'a NOTIFY after reconnecting'))[6]).toBe('media')

    // Reconnected, the backoff starts from its first step again.
    const before = log.lines.items.length
    await proxy.down()
    await log.lines.next('the second loss', failed(1000), before)
    expect(log.raw.join('')).not.toContain(secret)
  })

  it('backs off from 1 s doubling to 30 s while refused, and close() leaves no timer behind', async () => {
    const { proxy, url } = await viaProxy()
    await proxy.down()
    const log = capturingLogger()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const listener = new PostgresJobSignals({ connectionString: url, schema: uniqueSchemaName(), logger: log.logger })
    opened.push(listener)
    listener.listen(() => {})
    const warned = (l: LogLine) => l.retryInMs !== undefined
    const delays: number[] = []
    for (let attempt = 0; attempt < 8; attempt++) {
      const line = await log.lines.next(`refused attempt ${attempt + 1}`, warned, attempt)
      delays.push(line.retryInMs!)
      if (attempt < 7) await vi.advanceTimersByTimeAsync(line.retryInMs!)
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
    expect(vi.getTimerCount()).toBe(1)
    await listener.close()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('close() while reconnecting ends the new connection, and fires nothing', async () => {
    const { name, log, listener, heard } = await connectedListener()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    await kill(name)
    await log.lines.next('the connection to be lost', (l) => l.retryInMs === 1000)
    // The reconnection starts; close() comes while it connects.
    vi.advanceTimersByTime(1000)
    await listener.close()
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
    await until('no backend left for the closed listener', async () => (await backendPids(name)).length === 0)
    expect(heard.all).toHaveLength(3)
  })
  it('a process that queued work before it listens hears the others once it listens', async () => {
    const schema = uniqueSchemaName()
    const watcher = open({ schema })
    const watched = topics()
    watcher.listen(watched.onTopic)
    await watched.heard(3, 'the topics on connecting')
    const early = open({ schema })
    early.notify('media')
    // Heard: `early` holds its connection now, opened to notify.
    await watched.heard(4, 'the NOTIFY of the process that has not listened yet')

    const heard = topics()
    early.listen(heard.onTopic)
    expect((await heard.heard(3, 'the topics on listening')).sort()).toEqual(ALL)
    open({ schema }).notify('tasks')
    expect((await heard.heard(4, 'a NOTIFY from another instance'))[3]).toBe('tasks')
  })

  it('the topics of one moment go out in one statement, and those asked for while it is in flight in the next, each heard', async () => {
    const { schema, heard } = await connectedListener()
    const sender = open({ schema, applicationName: appName() })
    sender.notify('tasks')
    await heard.heard(4, 'the NOTIFY that opened the connection')
    const statements: string[] = []
    let release = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const query = pg.Client.prototype.query as (...a: unknown[]) => unknown
    // The first statement is held back, so that the next topics are asked for while it is in flight.
    const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      if (typeof args[0] !== 'string' || !args[0].includes('pg_notify')) return query.apply(this, args) as never
      statements.push(args[0])
      return (statements.length === 1 ? held.then(() => query.apply(this, args)) : query.apply(this, args)) as never
    })
    try {
      sender.notify('media')
      sender.notify('forwards')
      await until('the first statement', () => statements.length === 1)
      sender.notify('tasks')
      sender.notify('media')
      sender.notify('tasks')
      release()
      expect((await heard.heard(8, 'the four NOTIFYs')).slice(4)).toEqual(['media', 'forwards', 'tasks', 'media'])
    } finally {
      release()
      spy.mockRestore()
    }
    expect(statements).toHaveLength(2)
  })
})
