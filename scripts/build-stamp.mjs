// `npm start` builds only when something the build reads changed since the last build: the
// stamp is written at the end of `npm run build`, and `check` exits 1 when a source, a tsconfig,
// the package manifest or a build script is newer than it (or there is no stamp, or no dist).
// Usage: node scripts/build-stamp.mjs write | check
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const stamp = join(root, 'dist', '.build-stamp')
const inputs = ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.web.json']

function newest(path) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let latest = stat.mtimeMs
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)))
  return latest
}

const mode = process.argv[2]
if (mode === 'write') {
  writeFileSync(stamp, `${new Date().toISOString()}\n`)
} else if (mode === 'check') {
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0
  const changed = Math.max(...inputs.map((p) => newest(join(root, p))))
  process.exit(built > 0 && built >= changed ? 0 : 1)
} else {
  process.stderr.write('usage: node scripts/build-stamp.mjs write | check\n')
  process.exit(2)
}
