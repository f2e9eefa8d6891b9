/** The child's side of child.ts: announce readiness, answer jobs, stop on request or orphaning. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FromChild, ToChild } from './child.js'

export interface ChildHandlers<R, I, O> {
  start(): Promise<R>
  run?(input: I): Promise<O>
  stop?(): Promise<void>
}

function send(m: FromChild): void {
  process.send?.(m)
}

export function serveParent<R, I = unknown, O = unknown>(h: ChildHandlers<R, I, O>): void {
  let stopping = false
  const stop = async (code: number) => {
    if (stopping) return
    stopping = true
    try {
      await h.stop?.()
    } finally {
      // A normal exit, so --cpu-prof writes its profile.
      process.exit(code)
    }
  }
  process.on('message', (m: ToChild) => {
    if (m.type === 'stop') return void stop(0)
    if (!h.run) return send({ type: 'error', id: m.id, message: 'this child runs no jobs' })
    h.run(m.input as I).then(
      (data) => send({ type: 'result', id: m.id, data }),
      (err: unknown) => send({ type: 'error', id: m.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    )
  })
  // The bench died or was interrupted: never outlive it.
  process.on('disconnect', () => void stop(0))
  h.start().then(
    (data) => send({ type: 'ready', data }),
    (err: unknown) => {
      send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
      process.exitCode = 1
      process.disconnect?.()
    },
  )
}

/** A baseline's child: serves `server` on an ephemeral loopback port until the parent stops it. */
export function serveHttpServer(server: Server): void {
  serveParent<{ url: string }>({
    start: () =>
      new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
      }),
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  })
}
