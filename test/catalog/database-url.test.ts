import { describe, expect, it } from 'vitest'
import { describeDatabase, maskPassword, parseDatabaseUrl } from '../../src/catalog/database-url.js'

describe('parseDatabaseUrl', () => {
  it('reads the SQLite forms', () => {
    expect(parseDatabaseUrl('sqlite:/var/lib/mediagate/db.sqlite')).toEqual({ kind: 'sqlite', path: '/var/lib/mediagate/db.sqlite' })
    expect(parseDatabaseUrl('sqlite:///var/lib/x.db')).toEqual({ kind: 'sqlite', path: '/var/lib/x.db' })
    expect(parseDatabaseUrl('sqlite:data/x.db')).toEqual({ kind: 'sqlite', path: 'data/x.db' })
    expect(parseDatabaseUrl('sqlite://data/x.db')).toEqual({ kind: 'sqlite', path: 'data/x.db' })
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' })
    expect(parseDatabaseUrl('file:///tmp/a%20b.db')).toEqual({ kind: 'sqlite', path: '/tmp/a b.db' })
    expect(parseDatabaseUrl('file:rel/x.db')).toEqual({ kind: 'sqlite', path: 'rel/x.db' })
    expect(parseDatabaseUrl('  ./data/mediagate.db ')).toEqual({ kind: 'sqlite', path: './data/mediagate.db' })
    expect(parseDatabaseUrl('/abs/with:colon.db')).toEqual({ kind: 'sqlite', path: '/abs/with:colon.db' })
  })

  it('reads PostgreSQL URLs and takes our own parameters out', () => {
    expect(parseDatabaseUrl('postgres://u:p@db.internal:6543/media')).toEqual({ kind: 'postgres', connectionString: 'postgres://u:p@db.internal:6543/media' })
    const parsed = parseDatabaseUrl('postgresql://u@127.0.0.1/test?schema=tenant_a&pool_size=25&sslmode=require')
    expect(parsed).toEqual({ kind: 'postgres', connectionString: 'postgresql://u@127.0.0.1/test?sslmode=require', schema: 'tenant_a', poolSize: 25 })
    expect(parseDatabaseUrl('postgres://u@h/db?prepared_statements=off')).toEqual({ kind: 'postgres', connectionString: 'postgres://u@h/db', preparedStatements: false })
    expect(parseDatabaseUrl('postgres://u@h/db?prepared_statements=on')).toMatchObject({ preparedStatements: true })
  })

  it('refuses what it cannot use with invalid_config, never echoing the password', () => {
    for (const bad of ['', '   ', 'mysql://u:hunter2@h/db', 'sqlite:', 'file:', 'postgres://u:hunter2@h/db?pool_size=0', 'postgres://u:hunter2@h/db?pool_size=many', 'postgres://u:hunter2@h/db?prepared_statements=no', 'postgres://u:hunter2@[::1/db']) {
      let error: unknown
      try {
        parseDatabaseUrl(bad)
      } catch (err) {
        error = err
      }
      expect(error, bad).toMatchObject({ code: 'invalid_config' })
      expect((error as Error).message).not.toContain('hunter2')
    }
  })

  it('refuses a schema it would have to quote, and names where the value came from', () => {
    expect(() => parseDatabaseUrl('postgres://h/db?schema=a;drop')).toThrow(/^MEDIAGATE_DATABASE_URL: schema must match/)
    expect(() => parseDatabaseUrl('mysql://h/db', '--to-database')).toThrow(/^--to-database: unsupported database URL scheme "mysql:"/)
  })

  it('describes a target for messages without its password', () => {
    expect(describeDatabase(parseDatabaseUrl('sqlite:/var/lib/x.db'))).toBe('/var/lib/x.db')
    expect(describeDatabase(parseDatabaseUrl('postgres://u:s3cret@h:5432/db?schema=tenant_a&pool_size=3'))).toBe('postgres://u:***@h:5432/db (schema tenant_a)')
  })

  it('masks the password in messages', () => {
    expect(maskPassword('postgres://user:s3cret@host:5432/db')).toBe('postgres://user:***@host:5432/db')
    expect(maskPassword('postgres://user@host/db')).toBe('postgres://user@host/db')
  })
})
