/**
 * The sandbox's identity: the secrets it generates (API key, app secret, verify token, access
 * token) and its emulator's port, saved in the data directory and reused on the next start, so
 * a newcomer's commands (`mediagate fetch`, `replay --signature`, the hub.challenge handshake, a
 * dashboard sign-in) keep working across restarts. They protect nothing real: the sandbox talks
 * to its own emulator only, on loopback. Still written owner-only, as any key file is.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export interface SandboxIdentity {
  apiKey: string
  appSecret: string
  verifyToken: string
  accessToken: string
  /** The emulator's port of the last run; 0 until one was chosen. */
  emulatorPort: number
}

export const IDENTITY_FILE = 'sandbox.json'

const secret = (bytes: number) => randomBytes(bytes).toString('base64url')

function generated(): SandboxIdentity {
  return { apiKey: `mgk_${secret(24)}`, appSecret: secret(24), verifyToken: secret(12), accessToken: `sandbox-${secret(24)}`, emulatorPort: 0 }
}

/** The saved identity, or a new one when there is none or it is unreadable (nothing real depends on it). */
export function loadIdentity(dataDir: string): { identity: SandboxIdentity; saved: boolean } {
  try {
    const raw = JSON.parse(readFileSync(path.join(dataDir, IDENTITY_FILE), 'utf8')) as Partial<SandboxIdentity>
    const strings = [raw.apiKey, raw.appSecret, raw.verifyToken, raw.accessToken].every((v) => typeof v === 'string' && v.length >= 8)
    const port = typeof raw.emulatorPort === 'number' && Number.isInteger(raw.emulatorPort) && raw.emulatorPort >= 0 && raw.emulatorPort < 65536
    if (strings && port) return { identity: raw as SandboxIdentity, saved: true }
  } catch {
    // none yet, or not ours to read: a new one
  }
  return { identity: generated(), saved: false }
}

export function saveIdentity(dataDir: string, identity: SandboxIdentity): void {
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(path.join(dataDir, IDENTITY_FILE), `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 })
}
