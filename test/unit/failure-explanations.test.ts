import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/errors.js'
import { explainErrorCode, explainFailure, FAILURE_EXPLANATIONS } from '../../src/media/failure-explanations.js'

const SRC = new URL('../../src/', import.meta.url).pathname

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []))
}

/** Every error code the code base can put on a record: thrown as MediagateError or written as `{ code: '…' }`. */
function codesInSource(): Set<string> {
  const codes = new Set<string>()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/new MediagateError\(\s*'([a-z_]+)'/g)) codes.add(m[1]!)
    for (const m of text.matchAll(/toMediagateError\([^,()]+,\s*'([a-z_]+)'\)/g)) codes.add(m[1]!)
    for (const m of text.matchAll(/\bcode: '([a-z_]+)'/g)) codes.add(m[1]!)
  }
  return codes
}

describe('failure explanations', () => {
  it('explain every error code, and every code the source can store', () => {
    const found = codesInSource()
    // The scan finds the codes it should (guards against a scan that silently finds nothing).
    for (const code of ['network', 'integrity', 'meta_error', 'infected', 'source_expired', 'auth']) expect(found).toContain(code)
    for (const code of new Set([...Object.keys(ERROR_CODES), ...found])) {
      expect(Object.hasOwn(FAILURE_EXPLANATIONS, code), `${code} has no explanation`).toBe(true)
      const e = explainErrorCode(code)
      expect(e.summary.length, code).toBeGreaterThan(15)
      expect(e.fix.length, code).toBeGreaterThan(5)
      expect(['helps', 'after_fix', 'no']).toContain(e.retry)
    }
  })

  it('name only settings that exist', () => {
    const options = readFileSync(path.join(SRC, 'config/options.ts'), 'utf8')
    const texts = Object.values(FAILURE_EXPLANATIONS).flatMap((e) => [e.summary, e.fix, ...Object.values(e.platforms ?? {}).flatMap((p) => [p.summary ?? '', p.fix ?? ''])])
    const named = new Set(texts.flatMap((t) => [...t.matchAll(/\b(?:MEDIAGATE|META|WHATSAPP)_[A-Z_]+\b/g)].map((m) => m[0])))
    expect(named.size).toBeGreaterThan(10)
    for (const setting of named) expect(options, setting).toContain(`'${setting}'`)
  })

  it('says whether a retry can help, as the on-call person needs it', () => {
    expect(explainErrorCode('source_expired', 'messenger')).toMatchObject({ retry: 'no', fix: expect.stringContaining('mediagate.config.json') })
    expect(explainErrorCode('source_expired', 'whatsapp').fix).toContain('7 days')
    expect(explainErrorCode('auth')).toMatchObject({ retry: 'after_fix', fix: expect.stringContaining('WHATSAPP_ACCESS_TOKEN') })
    for (const code of ['upstream', 'network', 'rate_limited', 'storage', 'catalog', 'scanner']) expect(explainErrorCode(code).retry, code).toBe('helps')
    expect(explainErrorCode('infected')).toMatchObject({ retry: 'no', fix: expect.stringContaining('scan --release') })
    expect(explainErrorCode('too_large')).toMatchObject({ retry: 'after_fix', fix: expect.stringContaining('MEDIAGATE_MAX_BYTES') })
    expect(explainErrorCode('meta_error').retry).toBe('no')
    expect(explainErrorCode('some_future_code')).toMatchObject({ retry: 'after_fix', summary: expect.stringContaining('some_future_code') })
    expect(explainErrorCode('__proto__').summary).toContain('__proto__')
  })

  it('explains failed media and pending media with a last error, nothing else', () => {
    const base = { platform: 'messenger' as const, direction: 'inbound' as const, sourceExpiresAt: null, error: { code: 'upstream', message: 'Graph answered HTTP 503' } }
    expect(explainFailure({ ...base, status: 'failed' })).toMatchObject({ code: 'upstream', retry: 'helps' })
    expect(explainFailure({ ...base, status: 'pending' })).toMatchObject({ code: 'upstream', retry: 'helps' })
    expect(explainFailure({ ...base, status: 'pending', error: null })).toBeUndefined()
    expect(explainFailure({ ...base, status: 'stored' })).toBeUndefined()
    expect(explainFailure({ ...base, status: 'deleted' })).toBeUndefined()
  })

  it('says a retry cannot help a WhatsApp media whose id has expired', () => {
    const now = new Date('2031-01-08T00:00:00Z')
    const media = { platform: 'whatsapp' as const, direction: 'inbound' as const, status: 'failed' as const, error: { code: 'auth', message: 'token expired' } }
    expect(explainFailure({ ...media, sourceExpiresAt: new Date('2031-01-09T00:00:00Z') }, now)?.retry).toBe('after_fix')
    const late = explainFailure({ ...media, sourceExpiresAt: new Date('2031-01-07T00:00:00Z') }, now)
    expect(late).toMatchObject({ code: 'auth', retry: 'no', fix: expect.stringContaining('2031-01-07T00:00:00.000Z') })
  })
})
