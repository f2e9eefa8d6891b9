/**
 * A writable over an open FileHandle that fsyncs in `final`: 'finish' (and so `pipeline`)
 * happens only once every byte is on stable storage. The caller opens and closes the handle.
 */
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'

export function fileSink(handle: FileHandle): Writable {
  return new Writable({
    // Network chunks are small (16–64 KiB); a 256 KiB buffer lets writev send several per call
    // while keeping each put's memory small.
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      writeAll(handle, chunk).then(() => callback(), callback)
    },
    writev(chunks, callback) {
      writeAll(handle, Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => callback(), callback)
    },
    final(callback) {
      handle.sync().then(() => callback(), callback)
    },
  })
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0
  // write(2) on a regular file may be short (a signal, a full quota); each call makes progress or throws.
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset)
    if (bytesWritten <= 0) throw new Error('write made no progress')
    offset += bytesWritten
  }
}
