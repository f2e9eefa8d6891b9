/** The storage policy table and the No-Storage deadline applied on arrival; the config file's `no_storage`. */
import { describe, expect, it } from 'vitest'
import { parseAccountTokens } from '../../src/config/config-file.js'
import { NO_STORAGE_TTL_MS, onArrival, policyFor, policyTable } from '../../src/intake/arrival-rules.js'
import { newMedia } from '../../src/platforms/webhook/new-media.js'

const config = { policyWhatsapp: 'lazy', policyMessenger: 'eager', policyInstagram: 'eager', policyInstagramStory: 'proxy' } as const
const base = { accountId: '1', messageId: 'm', attachmentIndex: 0, direction: 'inbound', kind: 'image', sourceType: 'image' } as const

describe('policy table', () => {
  it('a source-specific rule wins over its platform; other sources and platforms get their own', () => {
    const rules = policyTable(config)
    expect(policyFor(rules, { platform: 'instagram', sourceType: 'story_mention' })).toBe('proxy')
    expect(policyFor(rules, { platform: 'instagram', sourceType: 'ig_story' })).toBe('proxy')
    expect(policyFor(rules, { platform: 'instagram', sourceType: 'image' })).toBe('eager')
    expect(policyFor(rules, { platform: 'messenger', sourceType: 'story_mention' })).toBe('eager')
    expect(policyFor(rules, { platform: 'whatsapp', sourceType: 'image' })).toBe('lazy')
    expect(policyFor([], { platform: 'whatsapp', sourceType: 'image' })).toBe('eager')
    expect(policyFor(policyTable({ ...config, policyInstagramStory: 'eager' }), { platform: 'instagram', sourceType: 'story_mention' })).toBe('eager')
  })
})

describe('No-Storage numbers', () => {
  const receivedAt = new Date('2026-12-01T10:00:00Z')
  const week = new Date(receivedAt.getTime() + 7 * 24 * 3600_000)
  it('bring the capture deadline to one hour after receipt, for their numbers only', () => {
    const wa = newMedia({ ...base, platform: 'whatsapp', accountId: '42', sourceMediaId: 'x', sourceExpiresAt: week })
    expect(onArrival(wa, [], new Set(['42']), receivedAt)).toMatchObject({ policy: 'eager', sourceExpiresAt: new Date(receivedAt.getTime() + NO_STORAGE_TTL_MS) })
    expect(onArrival(wa, [], new Set(['43']), receivedAt).sourceExpiresAt).toEqual(week)
    // A webhook's own error has no source to capture: nothing to bring forward.
    expect(onArrival({ ...wa, sourceExpiresAt: null }, [], new Set(['42']), receivedAt).sourceExpiresAt).toBeNull()
    const messenger = newMedia({ ...base, platform: 'messenger', accountId: '42', sourceExpiresAt: week })
    expect(onArrival(messenger, [], new Set(['42']), receivedAt).sourceExpiresAt).toEqual(week)
  })

  it('are read from mediagate.config.json, with or without a token of their own; a wrong value is a problem', () => {
    const tokens = parseAccountTokens({ whatsapp: { '42': { no_storage: true }, '43': { access_token: 't', no_storage: false }, '44': { access_token: 'u', no_storage: true } } }, 'f')
    expect([...tokens.noStorage].sort()).toEqual(['42', '44'])
    expect(tokens.whatsapp.get('42')).toBeUndefined()
    expect(tokens.whatsapp.get('44')).toBe('u')
    expect(() => parseAccountTokens({ whatsapp: { '42': { no_storage: 'yes' } } }, 'f')).toThrow(/"no_storage": must be true or false/)
    expect(() => parseAccountTokens({ pages: { '42': { access_token: 't', no_storage: true } } }, 'f')).toThrow(/"no_storage": unknown key/)
    expect(() => parseAccountTokens({ whatsapp: { '42': {} } }, 'f')).toThrow(/access_token/)
  })
})
