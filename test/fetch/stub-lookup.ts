/**
 * A resolver stub for the fetch and graph suites: answers from a fixed table, records every
 * call, and fails with ENOTFOUND for anything else, so no test ever asks real DNS.
 */
import type { LookupAddress, LookupOptions } from 'node:dns'
import type { LookupFunction } from 'node:net'

export interface StubLookup extends LookupFunction {
  readonly calls: string[]
}

export function stubLookup(table: Record<string, string | string[]>): StubLookup {
  const calls: string[] = []
  const fn = (hostname: string, options: LookupOptions, cb: (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void) => {
    calls.push(hostname)
    const entry = table[hostname]
    if (entry === undefined) {
      cb(Object.assign(new Error(`stub: ${hostname} is not in the table`), { code: 'ENOTFOUND' }), '')
      return
    }
    const list = (Array.isArray(entry) ? entry : [entry]).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    if (options.all) cb(null, list)
    else cb(null, list[0]?.address ?? '', list[0]?.family)
  }
  return Object.assign(fn, { calls })
}
