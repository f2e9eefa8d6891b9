/**
 * How a catalog is opened. Only the gateway (`serve`) and `mediagate migrate` create one; every
 * other command needs the catalog they made, so that a command run from the wrong directory or
 * with a mistyped URL fails with where it looked instead of working on a new, empty catalog.
 */
import { MediagateError } from '../errors.js'

/**
 * - `create`: created (file, directory, schema) when missing; migrations are the caller's next step.
 * - `write`: an existing catalog, to change.
 * - `read`: an existing catalog, opened read-only: nothing is migrated or written.
 */
export type OpenAccess = 'create' | 'write' | 'read'

/**
 * `not_found` (not `invalid_config`) so a caller can tell "nothing there yet" from a value it
 * cannot use: `mediagate doctor` warns, as `serve` would create it. `where` must carry no password.
 */
export function missingCatalog(where: string): MediagateError {
  return new MediagateError(
    'not_found',
    `no mediagate catalog at ${where}: point MEDIAGATE_DATABASE_URL (--database-url) or MEDIAGATE_DATA_DIR (--data-dir) at the existing one, or run \`mediagate migrate\` to create it`,
  )
}
