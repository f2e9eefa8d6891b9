/**
 * Holds back the last chunk of a stream until a verdict arrives, so that a client never gets a
 * complete-looking response for bytes that failed verification: on success the held chunk and
 * the end follow; on failure the stream errors and the response stops one chunk short (with a
 * Content-Length, the client sees a truncated body, not a clean end).
 */
import { Transform, type TransformCallback } from 'node:stream'

export class EndGate extends Transform {
  private held: Buffer | undefined

  /** `verdict` is asked once every byte has passed; it resolves to let the end through. */
  constructor(private readonly verdict: () => Promise<unknown>) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const previous = this.held
    this.held = chunk
    callback(null, previous)
  }

  override _flush(callback: TransformCallback): void {
    this.verdict().then(
      () => callback(null, this.held),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    )
  }
}
