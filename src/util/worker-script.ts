/**
 * The compiled script of a worker thread: beside the calling module when it runs from `dist`;
 * under vitest the sources are .ts, so the build is used (`npm test` builds first).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export function workerScript(beside: URL, built: URL): URL {
  return existsSync(fileURLToPath(beside)) ? beside : built
}
