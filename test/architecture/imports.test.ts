/**
 * The layout tells how data flows, so the folders of src/ may not import each other in a circle:
 * following a webhook from its route to the stored blob, or a client's request back to the bytes,
 * passes each folder once, with no hop back. This test reads every import of src/ and fails with
 * the cycle it finds.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

/** `capture` for src/capture/x.ts, `gateway` for src/gateway.ts. */
function unitOf(file: string): string {
  const [first, second] = path.relative(SRC, file).split(path.sep)
  return second === undefined ? first!.replace(/\.ts$/, '') : first!
}

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.ts')) {
        const from = unitOf(full)
        const edges = graph.get(from) ?? new Set<string>()
        graph.set(from, edges)
        for (const match of readFileSync(full, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = path.resolve(path.dirname(full), match[1]!)
          if (!target.startsWith(SRC)) continue
          const to = unitOf(target)
          if (to !== from) edges.add(to)
        }
      }
    }
  }
  walk(SRC)
  return graph
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node]
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of graph.keys()) {
    const cycle = visit(node)
    if (cycle) return cycle
  }
  return undefined
}

describe('the folders of src/', () => {
  const graph = folderGraph()

  it('import each other without a cycle', () => {
    expect(findCycle(graph)?.join(' → ')).toBeUndefined()
  })

  it('keep the data path one-way: what stores bytes knows nothing of jobs, routes or serving', () => {
    const below: Record<string, string[]> = {
      blobs: ['capture', 'transfer', 'jobs', 'serve', 'intake', 'gateway', 'parts'],
      catalog: ['capture', 'transfer', 'jobs', 'serve', 'intake', 'gateway', 'parts'],
      fetch: ['platforms', 'capture', 'transfer', 'jobs', 'serve', 'intake'],
      jobs: ['capture', 'forwarding', 'serve', 'intake', 'catalog', 'gateway'],
      transfer: ['capture', 'jobs', 'serve', 'intake', 'gateway', 'parts'],
      capture: ['serve', 'intake', 'gateway', 'parts'],
    }
    for (const [folder, forbidden] of Object.entries(below)) {
      const imports = [...(graph.get(folder) ?? [])]
      expect(imports.filter((to) => forbidden.includes(to)), `${folder}/ imports`).toEqual([])
    }
  })

  it('finds a cycle when there is one (the check itself works)', () => {
    expect(findCycle(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]))).toEqual(['a', 'b', 'c', 'a'])
  })
})
