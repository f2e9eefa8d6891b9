/**
 * Property-based: whatever arrives, parseWebhook answers, and every record it produces is
 * well-formed. Inputs are arbitrary JSON, arbitrary JSON under a supported `object`, and the
 * fixtures mutated (fields retyped, deleted, arrays blown up). Runs are bounded.
 */
import { readdirSync, readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MEDIA_KINDS, type NewMedia, PLATFORMS } from '../../src/media/record.js'
import { MAX_PROBLEMS_PER_PAYLOAD } from '../../src/platforms/webhook/parse-context.js'
import { parseWebhook } from '../../src/platforms/webhook/parse-webhook.js'
import type { ParsedWebhook } from '../../src/platforms/webhook/types.js'

const receivedAt = new Date('2026-10-01T12:00:00.000Z')
const RUNS = 300
const dir = new URL('../fixtures/webhooks/', import.meta.url)
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as unknown)

const ID = /^[\x21-\x7e]{1,1024}$/

function assertWellFormed(parsed: ParsedWebhook): void {
  expect(typeof parsed.object).toBe('string')
  expect(parsed.supported).toBe(['whatsapp_business_account', 'page', 'instagram'].includes(parsed.object))
  expect(parsed.problems.length).toBeLessThanOrEqual(MAX_PROBLEMS_PER_PAYLOAD + 1)
  for (const p of parsed.problems) expect(typeof p).toBe('string')
  for (const u of parsed.unsends) {
    expect(['messenger', 'instagram']).toContain(u.platform)
    expect(u.accountId).toMatch(ID)
    expect(u.messageId).toMatch(ID)
  }
  for (const m of parsed.media) assertRecord(m)
}

function assertRecord(m: NewMedia): void {
  expect(PLATFORMS).toContain(m.platform)
  expect(MEDIA_KINDS).toContain(m.kind)
  expect(m.accountId).toMatch(ID)
  expect(m.messageId).toMatch(ID)
  expect(Number.isSafeInteger(m.attachmentIndex) && m.attachmentIndex >= 0).toBe(true)
  expect(['inbound', 'outbound']).toContain(m.direction)
  expect(m.sourceType.length).toBeGreaterThan(0)
  if (m.senderId !== null) expect(m.senderId).toMatch(ID)
  if (m.sourceMediaId !== null) expect(m.sourceMediaId).toMatch(ID)
  if (m.sourceUrl !== null) {
    const url = new URL(m.sourceUrl)
    expect(['http:', 'https:']).toContain(url.protocol)
    expect(url.username + url.password).toBe('')
    expect(m.sourceUrl).toMatch(/^[\x21-\x7e]+$/)
  }
  for (const d of [m.sourceExpiresAt, m.sentAt]) if (d !== null) expect(Number.isNaN(d.getTime())).toBe(false)
  for (const s of [m.declaredMime, m.declaredSha256, m.filename, m.caption, m.sourceType]) {
    if (s !== null) {
      expect(typeof s).toBe('string')
      expect(s).not.toContain('\0')
    }
  }
  for (const b of [m.voice, m.animated]) expect(b === null || typeof b === 'boolean').toBe(true)
  expect(m.declaredSize).toBeNull()
  if (m.error) {
    expect(m.error.code).toBe('meta_error')
    expect(typeof m.error.message).toBe('string')
  } else if (m.platform === 'whatsapp') {
    expect(m.sourceMediaId).not.toBeNull()
  } else {
    expect(m.sourceUrl).not.toBeNull()
  }
}

let runsWithRecords = 0

const check = (payload: unknown) => {
  let parsed: ParsedWebhook | undefined
  expect(() => {
    parsed = parseWebhook(payload, { receivedAt })
  }).not.toThrow()
  assertWellFormed(parsed!)
  // Deterministic: a redelivery must map onto the same records.
  expect(parseWebhook(payload, { receivedAt })).toEqual(parsed)
  if (parsed!.media.length > 0) runsWithRecords++
}

describe('parseWebhook never throws and never produces garbage', () => {
  it('on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), check), { numRuns: RUNS })
  })

  it('on arbitrary JSON under a supported object', () => {
    const object = fc.constantFrom('whatsapp_business_account', 'page', 'instagram')
    fc.assert(
      fc.property(object, fc.array(fc.jsonValue({ maxDepth: 6 }), { maxLength: 5 }), (o, entry) => check({ object: o, entry })),
      { numRuns: RUNS },
    )
  })

  it('on mutated fixtures, most of which still hold media', () => {
    runsWithRecords = 0
    const mutation = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('replace', 'delete', 'huge', 'wrap', 'number-id', 'hostile-string'),
      value: fc.jsonValue({ maxDepth: 3 }),
    })
    fc.assert(
      fc.property(fc.nat({ max: fixtures.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, mutations) => {
        const payload = structuredClone(fixtures[which])
        for (const m of mutations) mutate(payload, m)
        check(payload)
      }),
      { numRuns: RUNS },
    )
    // Otherwise the mutations would only ever test the early exits (about half the fields of a
    // fixture are required, so a run with a few mutations keeps its record about a sixth of the time).
    expect(runsWithRecords).toBeGreaterThan(RUNS / 10)
  })
})

describe('every field of every fixture, retyped or made hostile, one at a time', () => {
  const RETYPED: unknown[] = [undefined, null, 0, -1, 1.5, 17841400000000000, true, '', 'x', [], {}, [{}], { 0: 'x' }]

  it.each(fixtures.map((f, i) => [i, f] as const))('fixture %i', (_i, original) => {
    const originalSlots = slots(original)
    for (let at = 0; at < originalSlots.length; at++) {
      for (const value of RETYPED) {
        const payload = structuredClone(original)
        const [container, key] = slots(payload)[at]!
        if (value === undefined && !Array.isArray(container)) delete (container as Record<string, unknown>)[key]
        else (container as Record<string | number, unknown>)[key] = value
        check(payload)
      }
      const [originalContainer, originalKey] = originalSlots[at]!
      const current = (originalContainer as Record<string | number, unknown>)[originalKey]
      if (typeof current !== 'string') continue
      for (const variant of hostileVariants(current)) {
        const payload = structuredClone(original)
        const [container, key] = slots(payload)[at]!
        ;(container as Record<string | number, unknown>)[key] = variant
        check(payload)
      }
    }
  })
})

/** The same string, turned into what a careless parser would let through. */
function hostileVariants(s: string): string[] {
  const mid = Math.floor(s.length / 2)
  return [
    `${s.slice(0, mid)}\0${s.slice(mid)}`,
    `${s.slice(0, mid)}\n${s.slice(mid)}`,
    `${s.slice(0, mid)}é${s.slice(mid)}`,
    ` ${s}`,
    s.replace(/^https?:/, 'javascript:'),
    s.replace(/^https?:\/\//, 'file:///'),
    s.replace(/^https?:\/\//, 'https://user:secret@'),
    s.repeat(Math.ceil(100_000 / Math.max(1, s.length))),
    '__proto__',
  ]
}

type Container = Record<string, unknown> | unknown[]
type Mutation = { at: number; op: string; value: unknown }

/**
 * Every (container, key) pair in the tree, so a mutation can hit any field at any depth. Arrays
 * a `huge` mutation made are not entered: they repeat one item, and walking them again and
 * again would cost the test, not the parser, all its memory.
 */
function slots(root: unknown): [Container, string | number][] {
  const out: [Container, string | number][] = []
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      if (node.length <= 100) node.forEach((v, i) => (out.push([node, i]), walk(v)))
    }
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) (out.push([node as Container, k]), walk(v))
  }
  walk(root)
  return out
}

const HOSTILE = ['javascript:alert(1)', 'file:///etc/passwd', 'a\u0000b', '', ' ', 'x'.repeat(5000), '__proto__', 'constructor', 'https://user:pw@h/x', '0x1F', '-1', '1e400']

function mutate(root: unknown, m: Mutation): void {
  const all = slots(root)
  if (all.length === 0) return
  const [container, key] = all[m.at % all.length]!
  const target = container as Record<string | number, unknown>
  switch (m.op) {
    case 'replace':
      target[key] = m.value
      break
    case 'delete':
      if (Array.isArray(container)) container.splice(key as number, 1)
      else delete target[key]
      break
    case 'huge':
      target[key] = new Array(25_000).fill(target[key])
      break
    case 'wrap':
      target[key] = [target[key]]
      break
    case 'number-id':
      target[key] = 17841400000000000
      break
    default:
      target[key] = HOSTILE[m.at % HOSTILE.length]
  }
}
