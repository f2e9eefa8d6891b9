/**
 * The server's per-connection idle timeout (gateway.ts) is there for clients that stop reading or
 * sending. While the server itself is the one with nothing to send yet (a lazy media captured
 * before a Range answer, a proxy download being opened, a client waiting for the rest of a capture)
 * the connection is quiet through no fault of the client's: the timeout is held off for that wait,
 * which the download deadline bounds, and restored after.
 */
import type { FastifyRequest } from 'fastify'

/** Suspends the idle timeout of the request's connection; call the returned function to restore it. */
export function holdIdleTimeout(request: FastifyRequest): () => void {
  const socket = request.raw.socket as typeof request.raw.socket | null
  const previous = socket?.timeout ?? 0
  if (!socket || socket.destroyed || previous <= 0) return () => {}
  socket.setTimeout(0)
  let held = true
  return () => {
    if (!held) return
    held = false
    if (!socket.destroyed) socket.setTimeout(previous)
  }
}

/** Waits for `work` with the connection's idle timeout held off. */
export async function whileServerWorks<T>(request: FastifyRequest, work: Promise<T>): Promise<T> {
  const release = holdIdleTimeout(request)
  try {
    return await work
  } finally {
    release()
  }
}
