// Second half of the dashboard's build: `tsc -p tsconfig.web.json` compiles the browser modules
// into dist/dashboard/web/; this copies the files tsc does not handle (index.html, style.css)
// beside them, and removes what no source backs any more, since the server serves that folder
// as it finds it. It also copies the emulator's sample media into dist/emulator/samples/.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const from = join(root, 'src/dashboard/web')
const to = join(root, 'dist/dashboard/web')

const sources = readdirSync(from)
const copied = sources.filter((name) => extname(name) !== '.ts')
const compiled = sources.filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts')).map((name) => name.replace(/\.ts$/, '.js'))
const wanted = new Set([...copied, ...compiled])

mkdirSync(to, { recursive: true })
for (const name of copied) copyFileSync(join(from, name), join(to, name))
for (const name of readdirSync(to)) {
  if (!wanted.has(name)) rmSync(join(to, name), { recursive: true, force: true })
}

// The emulator's sample media (real files, made by scripts/make-samples.mjs) beside its code.
const samplesFrom = join(root, 'src/emulator/samples')
const samplesTo = join(root, 'dist/emulator/samples')
rmSync(samplesTo, { recursive: true, force: true })
mkdirSync(samplesTo, { recursive: true })
for (const name of readdirSync(samplesFrom)) copyFileSync(join(samplesFrom, name), join(samplesTo, name))
