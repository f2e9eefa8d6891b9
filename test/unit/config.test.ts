import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { flagName, loadConfig } from '../../src/config/load-config.js'
import { OPTIONS } from '../../src/config/options.js'
import { MediagateError } from '../../src/errors.js'

const real = { META_APP_SECRET: 'app-secret', MEDIAGATE_API_KEY: 'k'.repeat(32) }

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({ env: { ...real } })
    expect(c.host).toBe('127.0.0.1')
    expect(c.port).toBe(8080)
    expect(c.dataDir).toBe(path.resolve('data'))
    expect(c.databaseUrl).toBe(`sqlite:${path.resolve('data', 'mediagate.db')}`)
    expect(c.storageUrl).toBe(`file:${path.resolve('data', 'blobs')}`)
    expect(c.graphUrl).toBe('https://graph.facebook.com')
    expect(c.graphVersion).toBe('v26.0')
    expect(c.maxBytes).toBe(104_857_600)
    expect(c.allowedHosts).toEqual(['fbcdn.net', 'fbsbx.com', 'cdninstagram.com', 'whatsapp.net', 'facebook.com'])
    expect(c.sandbox).toBe(false)
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('derives database and storage from the data dir', () => {
    const c = loadConfig({ env: { ...real, MEDIAGATE_DATA_DIR: '/srv/mg' } })
    expect(c.databaseUrl).toBe('sqlite:/srv/mg/mediagate.db')
    expect(c.storageUrl).toBe('file:/srv/mg/blobs')
    expect(c.database).toEqual({ kind: 'sqlite', path: '/srv/mg/mediagate.db' })
    expect(c.storage).toEqual({ kind: 'disk', root: '/srv/mg/blobs' })
  })

  it('parses the database and storage URLs into the targets the openers use', () => {
    const c = loadConfig({ env: { ...real, MEDIAGATE_DATABASE_URL: 'postgres://u:pw@db/media?schema=tenant_a&pool_size=4', MEDIAGATE_STORAGE_URL: 's3://media-bucket/gw?region=eu-west-1' } })
    expect(c.database).toEqual({ kind: 'postgres', connectionString: 'postgres://u:pw@db/media', schema: 'tenant_a', poolSize: 4 })
    expect(c.storage).toEqual({ kind: 's3', bucket: 'media-bucket', prefix: 'gw', region: 'eu-west-1' })
    expect(c.databaseUrl).toBe('postgres://u:pw@db/media?schema=tenant_a&pool_size=4')
  })

  it('reports wrong database and storage URLs with the other wrong values, never a password', () => {
    let message = ''
    try {
      loadConfig({ env: { ...real, MEDIAGATE_PORT: 'eighty', MEDIAGATE_DATABASE_URL: 'mysql://u:hunter2@h/db', MEDIAGATE_STORAGE_URL: 'ftp://x' } })
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_config' })
      message = (err as Error).message
    }
    const problems = message.split('\n').slice(1)
    expect(problems).toHaveLength(3)
    expect(problems[0]).toMatch(/^ {2}- MEDIAGATE_PORT: /)
    expect(problems[1]).toMatch(/^ {2}- MEDIAGATE_DATABASE_URL: unsupported database URL scheme "mysql:"/)
    expect(problems[2]).toMatch(/^ {2}- MEDIAGATE_STORAGE_URL must start with file: or s3:\/\//)
    expect(message).not.toContain('hunter2')
    expect(() => loadConfig({ env: { ...real, MEDIAGATE_DATABASE_URL: 'postgres://h/db?schema=Bad-Name' } })).toThrow(/MEDIAGATE_DATABASE_URL: schema must match/)
  })

  it('reads only the options asked for (and what their defaults derive from); the others keep their defaults', () => {
    const env = { MEDIAGATE_PORT: 'eighty', META_APP_SECRET: 'secret-without-api-key', MEDIAGATE_DATA_DIR: '/srv/mg', WHATSAPP_ACCESS_TOKEN: 'token' }
    expect(() => loadConfig({ env })).toThrow(/MEDIAGATE_PORT/)
    const c = loadConfig({ env, only: ['databaseUrl'] })
    expect(c.port).toBe(8080)
    expect(c.appSecrets).toEqual([])
    expect(c.accessToken).toBeUndefined()
    expect(c.dataDir).toBe('/srv/mg')
    expect(c.database).toEqual({ kind: 'sqlite', path: '/srv/mg/mediagate.db' })
    expect(loadConfig({ env, flags: { 'data-dir': '/opt/mg' }, only: ['databaseUrl'] }).databaseUrl).toBe('sqlite:/opt/mg/mediagate.db')
    // The secret requirement belongs to what reads the secrets.
    expect(() => loadConfig({ env: { META_APP_SECRET: 's' }, only: ['sandbox', 'apiKey'] })).toThrow(/MEDIAGATE_API_KEY: required/)
    expect(loadConfig({ env: { META_APP_SECRET: 's' }, only: ['appSecrets'] }).appSecrets).toEqual(['s'])
  })

  it('lets a flag override the environment', () => {
    const c = loadConfig({ env: { ...real, MEDIAGATE_PORT: '9000' }, flags: { port: '9100' } })
    expect(c.port).toBe(9100)
  })

  it('splits comma-separated app secrets and hosts', () => {
    const c = loadConfig({ env: { ...real, META_APP_SECRET: 'new, old', MEDIAGATE_ALLOWED_HOSTS: 'FBCDN.net., 127.0.0.1' } })
    expect(c.appSecrets).toEqual(['new', 'old'])
    expect(c.allowedHosts).toEqual(['fbcdn.net', '127.0.0.1'])
  })

  it('reports every wrong value at once, naming each variable', () => {
    let error: unknown
    try {
      loadConfig({ env: { ...real, MEDIAGATE_PORT: 'eighty', MEDIAGATE_MAX_BYTES: '-1', META_GRAPH_VERSION: '26', MEDIAGATE_ALLOWED_HOSTS: 'https://x.com/' } })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(MediagateError)
    const e = error as MediagateError
    expect(e.code).toBe('invalid_config')
    for (const name of ['MEDIAGATE_PORT', 'MEDIAGATE_MAX_BYTES', 'META_GRAPH_VERSION', 'MEDIAGATE_ALLOWED_HOSTS']) expect(e.message).toContain(name)
  })

  it('reads MEDIAGATE_TRUST_PROXY as addresses, CIDR ranges and range names, and refuses anything else', () => {
    expect(loadConfig({ env: { ...real } }).trustProxy).toBeUndefined()
    expect(loadConfig({ env: { ...real, MEDIAGATE_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8, Loopback' } }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback'])
    for (const wrong of ['proxy.example.com', '10.0.0.0/33', '1.2.3', '10.0.0.1/8/8', ' , ']) {
      expect(() => loadConfig({ env: { ...real, MEDIAGATE_TRUST_PROXY: wrong } }), wrong).toThrow(/MEDIAGATE_TRUST_PROXY/)
    }
  })

  it('enters sandbox mode without an app secret, and refuses to run for real without one', () => {
    expect(loadConfig({ env: {} }).sandbox).toBe(true)
    expect(() => loadConfig({ env: { MEDIAGATE_SANDBOX: '0', MEDIAGATE_API_KEY: 'k'.repeat(32) } })).toThrow(/META_APP_SECRET: required/)
    expect(() => loadConfig({ env: { META_APP_SECRET: 's' } })).toThrow(/MEDIAGATE_API_KEY: required/)
  })

  it('never puts a secret value in its error messages', () => {
    try {
      loadConfig({ env: { META_APP_SECRET: 'super-secret-value', MEDIAGATE_API_KEY: 'short-key-123' } })
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).not.toContain('short-key-123')
      expect((err as Error).message).not.toContain('super-secret-value')
    }
  })

  it('documents every option in the README configuration table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    for (const option of OPTIONS) {
      expect(readme, `${option.env} is missing from the README`).toContain(`\`${option.env}\``)
      expect(readme, `--${flagName(option)} is missing from the README`).toContain(`--${flagName(option)}`)
    }
  })
})
