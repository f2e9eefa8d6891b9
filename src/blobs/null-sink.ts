import { Writable } from 'node:stream'

/** A writable that drops everything: for streams consumed only for their hash. */
export function nullSink(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback()
    },
  })
}
