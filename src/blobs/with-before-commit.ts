/**
 * A view of a blob store whose every put runs `beforeCommit` (see PutOptions): what a capture
 * hands the transfer pipeline, so the pipeline stays ignorant of why a commit may have to wait.
 * Everything else goes to the store itself.
 */
import type { BlobStore, PutOptions } from './blob-store.js'

export function withBeforeCommit(store: BlobStore, beforeCommit: NonNullable<PutOptions['beforeCommit']>): BlobStore {
  const { readBytes, presignGet, quarantine } = store
  return {
    kind: store.kind,
    capabilities: store.capabilities,
    init: () => store.init(),
    put: (body, options = {}) => store.put(body, { ...options, beforeCommit }),
    stat: (key) => store.stat(key),
    read: (key, range) => store.read(key, range),
    ...(readBytes ? { readBytes: (key: string, start: number, length: number) => readBytes.call(store, key, start, length) } : {}),
    delete: (key) => store.delete(key),
    list: () => store.list(),
    ...(presignGet ? { presignGet: (key: string, options: Parameters<typeof presignGet>[1]) => presignGet.call(store, key, options) } : {}),
    ...(quarantine ? { quarantine: (key: string) => quarantine.call(store, key) } : {}),
    close: () => store.close(),
  }
}
