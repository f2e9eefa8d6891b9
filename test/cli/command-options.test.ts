/**
 * Each command takes the configuration options it reads and no other, and every command checks
 * the database and storage URLs before doing anything, one line per wrong value.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureCommand } from '../../src/cli/commands/capture.js'
import { deleteCommand } from '../../src/cli/commands/delete.js'
import { doctorCommand } from '../../src/cli/commands/doctor.js'
import { fetchCommand } from '../../src/cli/commands/fetch.js'
import { lsCommand } from '../../src/cli/commands/ls.js'
import { migrateDataCommand } from '../../src/cli/commands/migrate-data.js'
import { replayCommand } from '../../src/cli/commands/replay.js'
import { sweepCommand } from '../../src/cli/commands/sweep.js'
import { flagName } from '../../src/config/load-config.js'
import { OPTIONS } from '../../src/config/options.js'
import { type CliResult, runCli } from '../helpers/run-cli.js'

/** The built binary run from `cwd`. */
const runIn = (cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, env, 30_000, cwd)

/** The configuration flags a command's help lists. */
function configFlags(command: Command): string[] {
  const help = command.helpInformation()
  return OPTIONS.map((o) => `--${flagName(o)}`).filter((flag) => new RegExp(`^\\s+${flag} <value>`, 'm').test(help))
}

let cwd: string
beforeAll(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), 'mediagate-options-'))
})
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

describe('options per command', () => {
  it('ls lists and takes only the catalog options', async () => {
    const help = await runIn(cwd, ['ls', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--database-url')
    expect(help.stdout).toContain('--data-dir')
    expect(help.stdout).not.toContain('--meta-app-secret')
    expect(help.stdout).not.toContain('--s3-endpoint')
    const rejected = await runIn(cwd, ['ls', '--meta-app-secret', 'x'])
    expect(rejected.code).toBe(1)
    expect(rejected.stderr).toContain("unknown option '--meta-app-secret'")
    expect(configFlags(lsCommand())).toEqual(['--data-dir', '--database-url'])
  })

  it('each command lists what its parts read', () => {
    expect(configFlags(fetchCommand())).toEqual(['--whatsapp-access-token', '--meta-graph-url', '--meta-graph-version', '--allowed-hosts', '--max-bytes', '--download-timeout-ms', '--download-deadline-ms', '--config-file'])
    expect(configFlags(deleteCommand())).toEqual(['--data-dir', '--database-url', '--storage-url', '--s3-endpoint', '--s3-force-path-style', '--s3-region'])
    expect(configFlags(sweepCommand())).toEqual(expect.arrayContaining(['--database-url', '--storage-url', '--retention-days', '--retention-days-whatsapp', '--retention-days-messenger', '--retention-days-instagram']))
    expect(configFlags(sweepCommand())).not.toContain('--whatsapp-access-token')
    expect(configFlags(captureCommand())).toEqual(expect.arrayContaining(['--database-url', '--storage-url', '--whatsapp-access-token', '--config-file', '--allowed-hosts', '--concurrency']))
    expect(configFlags(captureCommand())).not.toContain('--meta-app-secret')
    expect(configFlags(migrateDataCommand())).toEqual(['--data-dir', '--database-url', '--storage-url', '--s3-endpoint', '--s3-force-path-style', '--s3-region'])
    // Checking a configuration, or feeding intake as configured, reads all of it but listening.
    expect(configFlags(doctorCommand())).toHaveLength(OPTIONS.length)
    expect(configFlags(replayCommand())).not.toContain('--port')
    expect(configFlags(replayCommand())).toContain('--meta-app-secret')
  })

  it('ignores the environment variables of options a command does not read', async () => {
    // A wrong MEDIAGATE_PORT, or a real app secret without an API key, concern the server, not ls.
    const run = await runIn(cwd, ['ls'], { MEDIAGATE_PORT: 'eighty', META_APP_SECRET: 'secret' })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^mediagate: not_found: no mediagate catalog at /)
    expect(run.stderr).not.toContain('MEDIAGATE_PORT')
    expect(run.stderr).not.toContain('MEDIAGATE_API_KEY')
  })
})

describe('database and storage URLs', () => {
  it('a wrong one stops any command at start, one line naming the variable', async () => {
    const database = await runIn(cwd, ['ls'], { MEDIAGATE_DATABASE_URL: 'mysql://u:hunter2@x/db' })
    expect(database.code).toBe(1)
    expect(database.stderr.trim().split('\n')).toEqual(['mediagate: invalid_config: invalid configuration:', expect.stringMatching(/^ {2}- MEDIAGATE_DATABASE_URL: unsupported database URL scheme "mysql:"/)])
    expect(database.stderr).not.toContain('hunter2')

    const storage = await runIn(cwd, ['ls'], { MEDIAGATE_STORAGE_URL: 'ftp://x' })
    expect(storage.code).toBe(1)
    expect(storage.stderr.trim().split('\n')).toEqual(['mediagate: invalid_config: invalid configuration:', expect.stringMatching(/^ {2}- MEDIAGATE_STORAGE_URL must start with file: or s3:\/\//)])

    // A command that opens neither still checks both, and reports both at once.
    const both = await runIn(cwd, ['fetch', '123'], { MEDIAGATE_DATABASE_URL: 'mysql://x', MEDIAGATE_STORAGE_URL: 's3://bucket?endpont=x', WHATSAPP_ACCESS_TOKEN: 't' })
    expect(both.code).toBe(1)
    const lines = both.stderr.trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[1]).toContain('MEDIAGATE_DATABASE_URL')
    expect(lines[2]).toContain('MEDIAGATE_STORAGE_URL: unknown option endpont')
    expect(await readdir(cwd)).toEqual([])
  })

  it('migrate-data names the flag of a wrong destination', async () => {
    const run = await runIn(cwd, ['migrate-data', '--to-database', 'mysql://x', '--to-storage', 'gs://b'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--to-database: unsupported database URL scheme "mysql:"')
    expect(run.stderr).toContain('--to-storage must start with file: or s3://')
  })
})
