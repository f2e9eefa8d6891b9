/**
 * On Node 20 the AWS SDK prints an 8-line NodeVersionSupportWarning when an S3 client is created
 * (its versions after early January 2027 need Node 22). mediagate pins an exact earlier version,
 * so it turns that warning off unless the user asks for it (docs/operations.md: Node versions).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { assertBuilt } from '../helpers/child-gateway.js'

const run = promisify(execFile)
const OLD_NODE = Number(process.versions.node.split('.')[0]) < 22

/** stderr of a process that creates mediagate's S3 client (no request is sent). */
async function stderrOfS3Client(env: Record<string, string>): Promise<string> {
  assertBuilt()
  const script = "const { createS3Client } = await import('./dist/blobs/s3-client.js'); createS3Client({ endpoint: 'http://127.0.0.1:9' }).destroy()"
  const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', ...env } })
  return stderr
}

describe('the AWS SDK Node version warning', () => {
  it('is not printed by default', async () => {
    expect(await stderrOfS3Client({})).not.toContain('NodeVersionSupportWarning')
  })

  it.runIf(OLD_NODE)('is printed when the user sets AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false (Node < 22)', async () => {
    expect(await stderrOfS3Client({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' })).toContain('NodeVersionSupportWarning')
  })
})
