import { describe, expect, it } from 'vitest'
import { cliInvocation } from '../../src/sandbox/start-sandbox.js'

describe('the CLI command the sandbox banner prints', () => {
  it('is node and the built file in a clone, the bin when installed, npx inside a project', () => {
    expect(cliInvocation('/home/me/mediagate/dist/cli/main.js', '/home/me/mediagate')).toBe('node dist/cli/main.js')
    expect(cliInvocation('/home/me/mediagate/dist/cli/main.js', '/tmp')).toBe('node /home/me/mediagate/dist/cli/main.js')
    expect(cliInvocation('/home/me/my app/dist/cli/main.js', '/tmp')).toBe('node "/home/me/my app/dist/cli/main.js"')
    expect(cliInvocation('/usr/local/bin/mediagate', '/home/me')).toBe('mediagate')
    expect(cliInvocation('/home/me/app/node_modules/.bin/mediagate', '/home/me/app')).toBe('npx mediagate')
    expect(cliInvocation('/home/me/app/node_modules/mediagate/dist/cli/main.js', '/home/me/app')).toBe('npx mediagate')
  })
})
