/**
 * The dashboard's browser files as built by `npm run build` into dist/dashboard/web/ (compiled
 * from src/dashboard/web/ by tsconfig.web.json, plus index.html and style.css copied as they
 * are), read once into memory. Found from the package root, so the same build serves whether
 * this module runs from dist/ or from src/ under vitest.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderIndexHtml } from './index-html.js'

export interface DashboardAsset {
  type: string
  body: string
}

export interface DashboardAssets {
  /** The page served at `/`, rendered. */
  indexHtml: string
  /** What is served under `/dashboard/assets/`, by file name. */
  files: Readonly<Record<string, DashboardAsset>>
}

/**
 * The nearest folder above this module with mediagate's package.json: src/ under vitest, dist/
 * when installed or run, dist-bench/src/ when the benchmarks compile their own copy.
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'mediagate') return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`mediagate's package.json is not above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

export const WEB_BUILD_DIR = join(packageRoot(), 'dist', 'dashboard', 'web')

/** Only these kinds of file are served; anything else in the folder stays private. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
}

/** Every `/dashboard/assets/<name>` the page links to or loads. */
export function referencedAssets(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="\/dashboard\/assets\/([^"]+)"/g)].map((m) => m[1]!)
}

export function loadDashboardAssets(dir: string = WEB_BUILD_DIR): DashboardAssets {
  const indexPath = join(dir, 'index.html')
  if (!existsSync(indexPath)) throw missingBuild(dir, 'index.html')
  const indexHtml = renderIndexHtml(readFileSync(indexPath, 'utf8'))
  const files: Record<string, DashboardAsset> = {}
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)]
    if (type) files[name] = { type, body: readFileSync(join(dir, name), 'utf8') }
  }
  for (const name of referencedAssets(indexHtml)) {
    if (!files[name]) throw missingBuild(dir, name)
  }
  return { indexHtml, files }
}

const missingBuild = (dir: string, name: string) =>
  new Error(`the dashboard's ${name} is not in ${dir}: run \`npm run build\` (it compiles src/dashboard/web/ into that folder)`)
