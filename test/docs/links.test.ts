/**
 * Every relative link in the README and the docs resolves: the file exists and, for a link with
 * an anchor, the target has a heading with that anchor (GitHub's slugs). Moving a section from
 * one page to another must move its links too.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Pages another branch writes (docs/dashboard.md comes with the dashboard work of issue 16): a
 * link to one is accepted while the file is missing, and checked like any other once it exists.
 */
const WRITTEN_ELSEWHERE = new Set(['docs/dashboard.md'])

export function pages(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
  return ['README.md', 'bench/README.md', ...docs]
}

/** The lines of a Markdown text outside fenced code blocks. */
function prose(text: string): string[] {
  let fenced = false
  return text.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced
      return false
    }
    return !fenced
  })
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2… */
export function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const line of prose(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1]
    if (heading === undefined) continue
    const visible = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '')
    const slug = visible
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    anchors.add(n === 0 ? slug : `${slug}-${n}`)
  }
  return anchors
}

/** `[text](target)` links outside code blocks and inline code spans. */
export function linksOf(text: string): string[] {
  const links: string[] = []
  for (const line of prose(text)) {
    const withoutCode = line.replace(/`[^`]*`/g, '')
    for (const m of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push(m[1]!)
  }
  return links
}

describe('links in the README and docs/', () => {
  it('finds the pages and their links (the checker itself reads what it should)', () => {
    expect(pages()).toEqual(expect.arrayContaining(['README.md', 'bench/README.md', 'docs/operations.md', 'docs/emulator.md', 'docs/architecture.md', 'docs/performance.md']))
    expect(anchorsOf("## Meta's 2026 changes\n## Tracing (OpenTelemetry)\n```\n## not a heading\n```\n## Derivatives: thumbnails, previews, facts\n## `code` *x*\n## Results\n## Results")).toEqual(
      new Set(['metas-2026-changes', 'tracing-opentelemetry', 'derivatives-thumbnails-previews-facts', 'code-x', 'results', 'results-1']),
    )
    expect(linksOf('see [a](docs/x.md#y) and `[b](not-a-link)` and [c](https://example.com)\n```\n[d](inside-code)\n```')).toEqual(['docs/x.md#y', 'https://example.com'])
  })

  for (const page of pages()) {
    it(`${page}: every relative link and anchor resolves`, () => {
      const text = readFileSync(path.join(ROOT, page), 'utf8')
      const broken: string[] = []
      for (const link of linksOf(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue // http(s), mailto: not ours to check offline
        const [file, anchor] = link.split('#') as [string, string | undefined]
        const target = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file))
        const absolute = path.join(ROOT, target)
        if (!existsSync(absolute)) {
          if (!WRITTEN_ELSEWHERE.has(target)) broken.push(`${link}: no file ${target}`)
          continue
        }
        if (anchor === undefined) continue
        if (statSync(absolute).isDirectory() || !target.endsWith('.md')) {
          broken.push(`${link}: an anchor into something that is not a Markdown page`)
          continue
        }
        if (!anchorsOf(readFileSync(absolute, 'utf8')).has(anchor)) broken.push(`${link}: ${target} has no heading #${anchor}`)
      }
      expect(broken).toEqual([])
    })
  }
})
