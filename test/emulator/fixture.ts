/** A started emulator with a hand-driven clock, and small HTTP helpers, for the emulator suites. */
import { afterAll, beforeAll } from 'vitest'
import { type Emulator, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js'

export const TOKEN = 'emu-test-token-0123456789'
export const SECRET = 'emu-test-app-secret'

export interface Fixture {
  emu: Emulator
  /** Moves the emulator's clock forward. */
  advance(ms: number): void
  auth: { authorization: string }
}

/** Starts one emulator for the file (beforeAll) and closes it afterwards. */
export function useEmulator(options: Partial<EmulatorOptions> = {}): Fixture {
  let clock = 1_800_000_000_000
  const fixture = {
    emu: undefined as unknown as Emulator,
    advance(ms: number) {
      clock += ms
    },
    auth: { authorization: `Bearer ${TOKEN}` },
  }
  beforeAll(async () => {
    fixture.emu = await startEmulator({ accessToken: TOKEN, appSecret: SECRET, now: () => clock, ...options })
  })
  afterAll(async () => {
    await fixture.emu?.close()
  })
  return fixture
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}
