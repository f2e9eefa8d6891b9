/**
 * The dashboard's browser files as built by `npm run build` into dist/dashboard/web/ (compiled
 * from src/dashboard/web/ by tsconfig.web.json, plus index.html and style.css copied as they
 * are), read once into memory. Found from the package root, so the same build serves whether
 * this module runs from dist/ or from src/ under vitest.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
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

/** This file sits three levels below the package root both as src/dashboard/assets/*.ts and dist/dashboard/assets/*.js. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const WEB_BUILD_DIR = join(PACKAGE_ROOT, 'dist', 'dashboard', 'web')

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
