/** Bytes, sources and assertions shared by the blob store suites. */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { expect } from 'vitest'
import type { BlobStore } from '../../src/blobs/blob-store.js'
import { MediagateError } from '../../src/errors.js'

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Deterministic bytes, different for every offset pattern, for range checks. */
export function sampleBytes(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff
  return b
}

export interface ChunkedSourceOptions {
  chunk?: number
  failAfter?: number
  error?: Error
  delayMs?: number
  onChunk?: (sent: number) => void
}

/**
 * A source that yields `total` bytes in chunks and then fails, or stops early when the consumer
 * destroys it; `sent` tells how far it got.
 */
export function chunkedSource(total: number, options: ChunkedSourceOptions = {}) {
  const chunk = options.chunk ?? 64 * 1024
  const state = { sent: 0, hash: createHash('sha256') }
  async function* gen() {
    for (let i = 0; state.sent < total; i++) {
      if (options.failAfter !== undefined && state.sent >= options.failAfter) throw options.error ?? new Error('source broke midway')
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs))
      const n = Math.min(chunk, total - state.sent)
      const b = Buffer.allocUnsafe(n).fill(i & 0xff)
      state.hash.update(b)
      state.sent += n
      options.onChunk?.(state.sent)
      yield b
    }
  }
  return { stream: Readable.from(gen(), { objectMode: false }), state }
}

/**
 * `total` bytes from a plain `Readable` that pushes synchronously and is destroyed at once, as
 * an HTTP response body is (an async generator's stream settles its destroy a few ticks later).
 */
export function plainSource(total: number, chunk = 64 * 1024) {
  const state = { sent: 0 }
  const stream = new Readable({
    read() {
      const n = Math.min(chunk, total - state.sent)
      state.sent += n
      this.push(n > 0 ? Buffer.alloc(n, 7) : null)
    },
  })
  return { stream, state }
}

/** The sha256 of everything `chunkedSource(total, { chunk })` yields when nothing stops it. */
export function chunkedSha256(total: number, chunk = 64 * 1024): string {
  const hash = createHash('sha256')
  for (let i = 0, sent = 0; sent < total; i++) {
    const n = Math.min(chunk, total - sent)
    hash.update(Buffer.alloc(n, i & 0xff))
    sent += n
  }
  return hash.digest('hex')
}

export async function expectCode(promise: Promise<unknown>, code: string): Promise<MediagateError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected a MediagateError ${code}`).toBeInstanceOf(MediagateError)
  expect((err as MediagateError).code).toBe(code)
  return err as MediagateError
}

export async function listKeys(store: BlobStore): Promise<string[]> {
  const keys: string[] = []
  for await (const s of store.list()) keys.push(s.key)
  return keys.sort()
}

/** `count` distinct contents whose keys share the first `prefix` hex digits of their sha256. */
export function contentsSharing(prefix: string, count: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; out.length < count; i++) {
    const b = Buffer.from(`blob ${prefix} ${i}`)
    if (sha256(b).startsWith(prefix)) out.push(b)
  }
  return out
}
