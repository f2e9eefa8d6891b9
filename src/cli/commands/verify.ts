/**
 * `mediagate verify`: re-hashes every stored blob against its sha256 and size, with progress.
 * Reports missing and corrupt blobs (exit code 1). With --quarantine, a corrupt blob is moved
 * aside (kept as evidence, no longer served) and its records become `failed` with `integrity`,
 * visible in the API and retryable once the source can be fetched again.
 */
import { Command } from 'commander'
import { verifyBlob } from '../../blobs/verify.js'
import { addConfigOptions, configFromCommand, READS } from '../config-flags.js'
import { withParts } from '../with-parts.js'
import { startProgress } from '../progress.js'

export function verifyCommand(): Command {
  const command = new Command('verify')
    .description('re-hash every stored blob; report (or --quarantine) missing and corrupt ones')
    .option('--quarantine', 'move corrupt blobs aside and mark their media failed (integrity)')
  addConfigOptions(command, [...READS.catalog, ...READS.blobs])
  command.action(async () => {
    const { quarantine } = command.opts<{ quarantine?: boolean }>()
    const config = configFromCommand(command)
    // Only --quarantine changes anything; the blob store is shared with a gateway that may be running.
    const problems = await withParts(config, { catalog: quarantine ? 'write' : 'read', blobs: 'shared' }, async ({ catalog, blobs }) => {
      const expected = new Map<string, { sha256: string; size: number }>()
      for (let after: string | null = null; ; ) {
        const rows = await catalog.exportRows('media', after, 500)
        if (rows.length === 0) break
        for (const r of rows) {
          if (r.status === 'stored' && typeof r.blob_key === 'string') expected.set(r.blob_key, { sha256: String(r.sha256), size: Number(r.size) })
        }
        after = rows.at(-1)!.id as string
      }
      const progress = startProgress('verify', expected.size)
      const found: string[] = []
      try {
        for (const [key, want] of expected) {
          const result = await verifyBlob(blobs, key, want)
          progress.increment()
          if (result.status === 'ok') continue
          let line = `${result.status}: ${key}${result.sha256 ? ` (hashes to ${result.sha256}, ${result.size} bytes)` : ''}`
          if (quarantine) {
            const message = `the stored blob is ${result.status}; found by mediagate verify`
            if (result.status === 'corrupt' && blobs.quarantine) line += ` → moved to ${await blobs.quarantine(key)}`
            const failed = await catalog.failBlob(key, { code: 'integrity', message })
            line += `; ${failed} media marked failed`
          }
          found.push(line)
        }
      } finally {
        progress.stop()
      }
      return { checked: expected.size, found }
    })
    for (const line of problems.found) process.stdout.write(`${line}\n`)
    process.stdout.write(`verified ${problems.checked} blobs: ${problems.checked - problems.found.length} ok, ${problems.found.length} missing or corrupt\n`)
    if (problems.found.length > 0) process.exitCode = 1
  })
  return command
}
