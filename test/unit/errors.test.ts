import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, MediagateError, toMediagateError } from '../../src/errors.js'

describe('error vocabulary', () => {
  it('documents every code in the README with its status', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(readme, `${code} is missing from the README`).toMatch(new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`))
    }
  })

  it('is a real Error with a stable code, status and cause', () => {
    const cause = new Error('ECONNRESET')
    const e = new MediagateError('network', 'connection reset', { cause })
    expect(e).toBeInstanceOf(Error)
    expect(e.stack).toBeTruthy()
    expect(e.code).toBe('network')
    expect(e.status).toBe(502)
    expect(e.retryable).toBe(true)
    expect(e.cause).toBe(cause)
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'network', message: 'connection reset' })
  })

  it('wraps foreign errors, keeping them as cause', () => {
    const e = toMediagateError(new TypeError('boom'), 'storage')
    expect(e.code).toBe('storage')
    expect(e.cause).toBeInstanceOf(TypeError)
    const same = new MediagateError('auth', 'x')
    expect(toMediagateError(same)).toBe(same)
  })
})
