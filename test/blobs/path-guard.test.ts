import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blobKeyFor } from '../../src/blobs/blob-store.js'
import { assertSafeKey, isPathInsideDirectory, isSafeKey, keyToPath, MAX_KEY_LENGTH } from '../../src/blobs/path-guard.js'
import { MediagateError } from '../../src/errors.js'
import { HOSTILE_KEYS } from './hostile-keys.js'

const ROOT = '/srv/mediagate/blobs'

describe('path guard', () => {
  it('refuses every hostile key', () => {
    for (const key of HOSTILE_KEYS) {
      expect(isSafeKey(key), JSON.stringify(key)).toBe(false)
      expect(() => assertSafeKey(key), JSON.stringify(key)).toThrow(MediagateError)
      expect(() => keyToPath(ROOT, key), JSON.stringify(key)).toThrow(/invalid blob key/)
    }
  })

  it('refuses non-strings', () => {
    for (const key of [undefined, null, 42, {}, ['a'], Buffer.from('a')]) expect(isSafeKey(key)).toBe(false)
  })

  it('accepts the keys the stores use', () => {
    const hex = 'ab'.repeat(32)
    for (const key of [blobKeyFor(hex), `quarantine/${blobKeyFor(hex)}.20260101T000000000Z`, 'readyz-probe', 'te..st..js', 'a/b-c/d_e.f', 'x'.repeat(255)]) {
      expect(isSafeKey(key), key).toBe(true)
      expect(assertSafeKey(key)).toBe(key)
    }
    expect(keyToPath(ROOT, blobKeyFor(hex))).toBe(`${ROOT}/sha256/ab/ab/${hex}`)
  })

  it('caps key length at the S3 limit', () => {
    const long = `${'a/'.repeat(MAX_KEY_LENGTH / 2 - 1)}ab`
    expect(long.length).toBe(MAX_KEY_LENGTH)
    expect(isSafeKey(long)).toBe(true)
    expect(isSafeKey(`${long}b`)).toBe(false)
  })

  it('does not echo control characters back in its error', () => {
    const err = (() => {
      try {
        assertSafeKey('a\x1b[31mred\0')
      } catch (e) {
        return e as MediagateError
      }
    })()
    expect(err?.code).toBe('bad_request')
    expect(err?.message).not.toMatch(/[\0\x1b]/)
  })

  it('isPathInsideDirectory: only strict descendants', () => {
    expect(isPathInsideDirectory(ROOT, `${ROOT}/a`)).toBe(true)
    expect(isPathInsideDirectory(ROOT, `${ROOT}/a/../b`)).toBe(true)
    expect(isPathInsideDirectory(ROOT, ROOT)).toBe(false)
    expect(isPathInsideDirectory(ROOT, `${ROOT}/`)).toBe(false)
    expect(isPathInsideDirectory(ROOT, `${ROOT}/..`)).toBe(false)
    expect(isPathInsideDirectory(ROOT, `${ROOT}/../blobs2/x`)).toBe(false)
    expect(isPathInsideDirectory(ROOT, `${ROOT}2/x`)).toBe(false)
    expect(isPathInsideDirectory(ROOT, '/etc/passwd')).toBe(false)
    expect(isPathInsideDirectory(ROOT, `${ROOT}/a\0b`)).toBe(false)
    expect(isPathInsideDirectory(ROOT, `${ROOT}/..foo`)).toBe(true)
  })

  it('property: any accepted key maps to a path strictly inside the root, unchanged by normalization', () => {
    const alphabet = fc.constantFrom(...'abc./-_\\\0:%~ \u2024'.split(''))
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 24 }).map((cs) => cs.join('')), (key) => {
        if (!isSafeKey(key)) {
          expect(() => keyToPath(ROOT, key)).toThrow(MediagateError)
          return
        }
        const file = keyToPath(ROOT, key)
        expect(isPathInsideDirectory(ROOT, file)).toBe(true)
        expect(path.relative(ROOT, file)).toBe(key)
      }),
      { numRuns: 2000 },
    )
  })

  it('property: arbitrary strings never escape the root', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (key) => {
        let file: string
        try {
          file = keyToPath(ROOT, key)
        } catch (err) {
          expect((err as MediagateError).code).toBe('bad_request')
          return
        }
        expect(file.startsWith(`${ROOT}/`)).toBe(true)
        expect(file.split('/')).not.toContain('..')
      }),
      { numRuns: 2000 },
    )
  })
})
