import { describe, expect, it } from 'vitest'
import { cachedInsert, cachedStatement } from '../../src/catalog/statement-cache.js'
import { settlePlan } from '../../src/catalog/media-plans.js'
import type { Settlement } from '../../src/catalog/catalog.js'
import { sqlDialect } from '../../src/catalog/sql-dialect.js'

type Row = { id: string; body_sha256: string; object: string; received_at: number; size: number; body: Buffer }

const row = (n: number, body = Buffer.from(`body ${n}`)): Row => ({ id: `wh_${n}`, body_sha256: `sha${n}`, object: 'page', received_at: 1_700_000_000_000 + n, size: body.length, body })

for (const name of ['sqlite', 'postgres'] as const) {
  describe(`cachedInsert (${name})`, () => {
    const dialect = sqlDialect(name)
    const build = (rows: Row[]) => dialect.qb.insertInto('webhooks').values(rows).onConflict((oc) => oc.column('body_sha256').doNothing()).returning('id').compile()

    it('binds exactly what kysely would bind, compiling each shape once', () => {
      let compiles = 0
      const counting = (rows: Row[]) => {
        compiles++
        return build(rows)
      }
      const key = `test-${name}-${Math.random()}`
      const first = cachedInsert(dialect, key, [row(1), row(2)], counting)
      const second = cachedInsert(dialect, key, [row(3), row(4, Buffer.alloc(0))], counting)
      expect(compiles).toBe(1)
      expect(second.sql).toBe(first.sql)
      expect(second.parameters).toEqual(build([row(3), row(4, Buffer.alloc(0))]).parameters)
      // Another row count is another statement.
      const third = cachedInsert(dialect, key, [row(5)], counting)
      expect(compiles).toBe(2)
      expect(third.parameters).toEqual(build([row(5)]).parameters)
    })

    it('compiles afresh when a value is undefined or the rows differ in shape', () => {
      let compiles = 0
      const counting = (rows: Row[]) => {
        compiles++
        return build(rows)
      }
      const key = `test-${name}-${Math.random()}`
      cachedInsert(dialect, key, [row(1)], counting)
      const partial = { ...row(2), object: undefined } as unknown as Row
      const compiled = cachedInsert(dialect, key, [partial], counting)
      expect(compiled.sql).not.toContain('"object"')
      const { body, ...rest } = row(3)
      const reordered = { body, ...rest }
      const again = cachedInsert(dialect, key, [reordered], counting)
      expect(again.parameters).toEqual(build([reordered]).parameters)
      expect(compiles).toBe(3)
    })
  })

  describe(`cachedStatement (${name})`, () => {
    const dialect = sqlDialect(name)
    const build = (id: string, owner: string) => dialect.qb.updateTable('media').set({ lease_owner: owner }).where('id', '=', id).returning('id').compile()

    it('compiles once and binds each call\'s values; a compile that binds otherwise is never reused', () => {
      let compiles = 0
      const counting = (id: string, owner: string) => () => {
        compiles++
        return build(id, owner)
      }
      const key = `test-${name}-${Math.random()}`
      cachedStatement(dialect, key, ['o1', 'm1'], counting('m1', 'o1'))
      const second = cachedStatement(dialect, key, ['o2', 'm2'], counting('m2', 'o2'))
      expect(compiles).toBe(1)
      expect(second).toMatchObject({ sql: build('m2', 'o2').sql, parameters: build('m2', 'o2').parameters })
      const wrong = `test-${name}-${Math.random()}`
      // The values in the wrong order: kysely binds otherwise, so nothing is cached under that key.
      cachedStatement(dialect, wrong, ['m1', 'o1'], counting('m1', 'o1'))
      const fresh = cachedStatement(dialect, wrong, ['m2', 'o2'], counting('m2', 'o2'))
      expect(compiles).toBe(3)
      expect(fresh.parameters).toEqual(['o2', 'm2'])
    })

    it('settling binds every settlement\'s own values, whatever shape came before', () => {
      const stored = (n: number): Settlement => ({ status: 'stored', sha256: `${n}`.repeat(64).slice(0, 64), size: n, blobKey: `k${n}`, sniffedMime: n % 2 ? null : 'image/png', mimeType: 'image/png', storedAt: new Date(n) })
      const retry = (n: number): Settlement => ({ status: 'retry', error: { code: 'network', message: `m${n}`, vendorCode: null }, nextAttemptAt: new Date(n) })
      const failed = (n: number): Settlement => ({ status: 'failed', error: { code: 'integrity', message: `f${n}`, vendorCode: 400 } })
      const refund = (n: number): Settlement => ({ ...(retry(n) as Extract<Settlement, { status: 'retry' }>), refundAttempt: true })
      const statement = (s: Settlement, n: number) => settlePlan(dialect, `id${n}`, `owner${n}`, s, 1000 + n).next().value as { sql: string; parameters: readonly unknown[] }
      for (let n = 1; n <= 3; n++) {
        for (const make of [stored, retry, failed, refund]) {
          const s = make(n)
          const got = statement(s, n)
          expect(got.parameters).toContain(`id${n}`)
          expect(got.parameters).toContain(`owner${n}`)
          expect(got.parameters).toContain(1000 + n)
          if (s.status !== 'stored') expect(got.parameters).toContain(s.error.message)
          else expect(got.parameters).toContain(s.blobKey)
          expect(got.sql.includes('"attempts"')).toBe(make === refund)
        }
      }
    })
  })
}
