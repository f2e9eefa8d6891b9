import { describe, expect, it } from 'vitest'
import { cachedInsert } from '../../src/catalog/statement-cache.js'
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
}
