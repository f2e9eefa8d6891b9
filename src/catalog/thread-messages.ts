/**
 * What crosses the boundary of the threaded SQLite catalog: calls of a SqliteCatalog method by
 * name and their replies, typed by the class itself so a call and its dispatch cannot drift apart.
 *
 * Values crossing a worker-thread boundary are structured clones: a Buffer arrives as a plain
 * Uint8Array, which better-sqlite3 does not bind and callers do not expect. Turn them back.
 *
 * The clone is fresh and ours, so it is revived in place: a batch of records is walked once
 * without allocating a copy of every object (on the intake path that copy cost more than the
 * clone itself).
 */
import type { ErrorCode } from '../errors.js'
import type { SqliteCatalog } from './sqlite-catalog.js'

/** The public methods of the catalog the SQLite thread hosts: the Catalog's and its own (migrateTo, …). */
export type ThreadMethod = { [K in keyof SqliteCatalog]: SqliteCatalog[K] extends (...args: never[]) => unknown ? K : never }[keyof SqliteCatalog]

/** Each method's arguments and result, looked up by name. */
export type ThreadArgs = { [M in ThreadMethod]: SqliteCatalog[M] extends (...args: infer A) => unknown ? A : never }
export type ThreadResult = { [M in ThreadMethod]: SqliteCatalog[M] extends (...args: never[]) => infer R ? R : never }

/** The catalog seen as a table of handlers, one per method name (SqliteCatalog is one). */
export type ThreadHandlers = { [M in ThreadMethod]: (...args: ThreadArgs[M]) => ThreadResult[M] }

export interface ThreadCall<M extends ThreadMethod = ThreadMethod> {
  id: number
  method: M
  args: ThreadArgs[M]
}

export interface ThreadReply {
  id: number
  result?: unknown
  error?: { code: ErrorCode; message: string; vendorCode?: string | number; status: number; retryable: boolean }
}

/**
 * Every method the thread answers, checked both ways by the compiler (none missing, none extra),
 * so that at run time a name that came through a message or a Proxy can be checked: the
 * catalog's other functions (its engine internals) are never callable from outside.
 */
const THREAD_METHODS: Record<ThreadMethod, true> = {
  migrate: true,
  recordOutbound: true,
  claimHandle: true,
  completeHandle: true,
  abandonHandle: true,
  renewHandle: true,
  handlesOf: true,
  completeConversion: true,
  metaDeletionsOf: true,
  endMetaDeletion: true,
  migrateTo: true,
  schemaVersion: true,
  pragma: true,
  ping: true,
  serverWarnings: true,
  close: true,
  recordWebhooks: true,
  getWebhookBody: true,
  webhookMedia: true,
  claim: true,
  renewLeases: true,
  settle: true,
  settleMany: true,
  settleAndClaim: true,
  nextDueAt: true,
  get: true,
  list: true,
  count: true,
  counts: true,
  compactCounts: true,
  summary: true,
  requeue: true,
  failBlob: true,
  storeRemote: true,
  failRemote: true,
  learnRemote: true,
  listLazyDue: true,
  listExpired: true,
  markDeleted: true,
  referencedBlobKeys: true,
  releaseBlobKeys: true,
  tombstoneBlobKeys: true,
  leaseBlobs: true,
  claimBlobDeletions: true,
  endBlobDeletions: true,
  claimForwards: true,
  settleForward: true,
  getForward: true,
  listForwards: true,
  retryForwards: true,
  exportRows: true,
  compareRows: true,
  importRows: true,
  copyActivity: true,
  createSession: true,
  sessionActive: true,
  endSession: true,
  enqueueTasks: true,
  claimTasks: true,
  renewTasks: true,
  settleTask: true,
  settleTaskAndClaim: true,
  nextTaskDueAt: true,
  getTask: true,
  derivativesOf: true,
  reserveDerivatives: true,
  recordDerived: true,
  markDeriving: true,
  derivedBlobKeys: true,
  quarantineBlob: true,
  noteScan: true,
  releaseInfected: true,
  resendForwards: true,
  claimChore: true,
  releaseChore: true,
}

export function isThreadMethod(name: string): name is ThreadMethod {
  return Object.hasOwn(THREAD_METHODS, name)
}

/** Runs a call on the hosted catalog; the name and its arguments are typed together. */
export function dispatch<M extends ThreadMethod>(handlers: ThreadHandlers, method: M, args: ThreadArgs[M]): ThreadResult[M] {
  return handlers[method](...args)
}

export function reviveBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return asBuffer(value)
  if (value !== null && typeof value === 'object') reviveInPlace(value as Record<string, unknown>)
  return value
}

function reviveInPlace(container: Record<string, unknown> | unknown[]): void {
  if (container instanceof Date || Buffer.isBuffer(container)) return
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) container[i] = revive(container[i])
    return
  }
  for (const key in container) container[key] = revive(container[key])
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return asBuffer(value)
  reviveInPlace(value as Record<string, unknown>)
  return value
}

function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}
