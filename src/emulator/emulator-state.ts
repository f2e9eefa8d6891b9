/**
 * The emulator's memory kept in a directory, for a sandbox that restarts: without it, media a
 * gateway still had pending when the emulator stopped would be unknown ids and URLs that no
 * longer verify after the restart, and fail though Meta would still serve them.
 *
 *   url-key          the URL signer's HMAC key, so URLs signed before a restart still verify
 *   journal.ndjson   one line per change: a media registered (its metadata and times), its CDN URL,
 *                    a server-side expiry (Instagram), a deletion, a Messenger/Instagram message
 *   bytes/<name>     the bytes of each media registered with bytes (generated media are made
 *                    again from their id, as before)
 *
 * Each change is durable before the emulator acts on it (bytes: temp file, fsync, rename, fsync of
 * the directory; journal: append, fsync), so a media announced in a webhook is known after any
 * stop, a SIGKILL included. Opening the directory compacts it: the journal is rewritten with one
 * line per fact still true (the last URL and expiry of each media, not every one given out), and
 * files under bytes/ that no media needs (a deleted media's, a crash's temp file) are removed;
 * a deletion also removes its media's bytes at once. Synchronous on purpose: the media store's API is synchronous, and a
 * state directory is for a sandbox or a developer's emulator, never a benchmark. Times are
 * stored as they were, so expiry is judged exactly as before the restart.
 */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs'
import path from 'node:path'
import type { Platform } from '../media/record.js'
import { MediagateError } from '../errors.js'
import { type ByteSource, fileSource, goneSource, hashSource } from './byte-source.js'
import type { FileSizeType, Sha256Encoding } from './types.js'

/** A registered media as the journal records it. */
export interface MediaEntry {
  t: 'media'
  id: string
  platform: Platform
  mimeType: string
  size: number
  /** The file under bytes/ holding its bytes; absent for generated media. */
  file?: string
  filename?: string
  sha256Encoding: Sha256Encoding
  fileSizeType: FileSizeType
  phoneNumberId?: string
  createdAt: number
  idTtlMs?: number
}

export interface MessageEntry {
  t: 'message'
  mid: string
  platform: 'messenger' | 'instagram'
  accountId: string
  userId: string
  attachments: (string | null)[]
}

/** A deletion keeps the sha256 (hex) of given bytes, which are removed, so the media's description stays the same. */
export type JournalEntry = MediaEntry | MessageEntry | { t: 'url'; id: string; url: string } | { t: 'expires'; id: string; at: number } | { t: 'deleted'; id: string; sha256?: string }

/** A media as it was when the emulator stopped. */
export interface RestoredMedia {
  entry: MediaEntry
  source: ByteSource | undefined
  url: string | undefined
  expiresAt: number | undefined
  deleted: boolean
  /** The sha256 (hex) recorded at deletion, for a deleted media whose bytes are gone. */
  sha256Hex?: string
}

const KEY_FILE = 'url-key'
const JOURNAL_FILE = 'journal.ndjson'
const BYTES_DIR = 'bytes'

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Writes a whole file durably: a temp file fsynced, renamed into place, the directory fsynced. */
function writeDurably(file: string, data: Buffer, mode = 0o644): void {
  const temp = `${file}.tmp-${randomBytes(6).toString('hex')}`
  const fd = openSync(temp, 'w', mode)
  try {
    for (let written = 0; written < data.length; ) written += writeSync(fd, data, written, data.length - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, file)
  fsyncDir(path.dirname(file))
}

/** Named by a hash of the id: ids are the caller's (`..` is a valid one), file names must not be. */
function bytesFileOf(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 40)
}

export class EmulatorState {
  readonly urlKey: Buffer
  private readonly journal: string
  private readonly bytesDir: string

  private constructor(
    readonly dir: string,
    urlKey: Buffer,
  ) {
    this.urlKey = urlKey
    this.journal = path.join(dir, JOURNAL_FILE)
    this.bytesDir = path.join(dir, BYTES_DIR)
  }

  /** Opens (creating) a state directory: its URL key, made once and kept. */
  static open(dir: string): EmulatorState {
    try {
      mkdirSync(path.join(dir, BYTES_DIR), { recursive: true, mode: 0o700 })
      const keyFile = path.join(dir, KEY_FILE)
      if (!existsSync(keyFile)) writeDurably(keyFile, Buffer.from(randomBytes(32).toString('hex')), 0o600)
      const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex')
      if (key.length < 16) throw new Error(`${keyFile} does not hold a key`)
      const journal = path.join(dir, JOURNAL_FILE)
      // Created (durably) here, so an append never makes a file whose name could be lost.
      if (!existsSync(journal)) writeDurably(journal, Buffer.alloc(0), 0o600)
      return new EmulatorState(dir, key)
    } catch (err) {
      throw new MediagateError('invalid_config', `emulator state directory ${dir}: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * Everything the journal says, in order. A last line cut short by a crash is dropped (and cut
   * off the file, so the next append starts a line of its own); a media whose bytes file is gone
   * is skipped, as if it had never been registered.
   */
  load(): { media: RestoredMedia[]; messages: MessageEntry[] } {
    if (!existsSync(this.journal)) return { media: [], messages: [] }
    const text = readFileSync(this.journal, 'utf8')
    const complete = text.lastIndexOf('\n') + 1
    if (complete < Buffer.byteLength(text)) truncateSync(this.journal, Buffer.byteLength(text.slice(0, complete)))
    const media = new Map<string, RestoredMedia>()
    const messages: MessageEntry[] = []
    for (const line of text.slice(0, complete).split('\n')) {
      if (line === '') continue
      let entry: JournalEntry
      try {
        entry = JSON.parse(line) as JournalEntry
      } catch {
        continue // not ours, or damaged by hand: the rest still counts
      }
      if (entry.t === 'media') media.set(entry.id, { entry, source: this.sourceOf(entry), url: undefined, expiresAt: undefined, deleted: false })
      else if (entry.t === 'message') messages.push(entry)
      else {
        const known = media.get(entry.id)
        if (!known) continue
        if (entry.t === 'url') known.url = entry.url
        else if (entry.t === 'expires') known.expiresAt = entry.at
        else {
          known.deleted = true
          // A deletion written before deletions kept the hash: taken from the bytes, before they go.
          const sha256 = entry.sha256 ?? (known.source ? hashSource(known.source).toString('hex') : undefined)
          if (sha256 !== undefined) known.sha256Hex = sha256
          if (known.entry.file !== undefined) known.source = goneSource(known.entry.size)
        }
      }
    }
    const restored = [...media.values()].filter((m) => m.entry.file === undefined || m.source !== undefined)
    this.compact(restored, messages)
    return { media: restored, messages }
  }

  /**
   * Rewrites the journal as the facts it holds now, and removes the files under bytes/ that no
   * media still served needs. The new journal replaces the old one atomically (rename), so a
   * crash leaves one or the other, never a mix.
   */
  private compact(media: readonly RestoredMedia[], messages: readonly MessageEntry[]): void {
    const lines: string[] = []
    const needed = new Set<string>()
    for (const m of media) {
      lines.push(JSON.stringify(m.entry))
      if (m.url !== undefined) lines.push(JSON.stringify({ t: 'url', id: m.entry.id, url: m.url }))
      if (m.expiresAt !== undefined) lines.push(JSON.stringify({ t: 'expires', id: m.entry.id, at: m.expiresAt }))
      if (m.deleted) lines.push(JSON.stringify({ t: 'deleted', id: m.entry.id, ...(m.sha256Hex === undefined ? {} : { sha256: m.sha256Hex }) }))
      else if (m.entry.file !== undefined) needed.add(path.basename(m.entry.file))
    }
    for (const message of messages) lines.push(JSON.stringify(message))
    writeDurably(this.journal, Buffer.from(lines.map((line) => `${line}\n`).join('')), 0o600)
    let removed = false
    for (const name of readdirSync(this.bytesDir)) {
      if (needed.has(name)) continue
      rmSync(path.join(this.bytesDir, name), { force: true })
      removed = true
    }
    if (removed) fsyncDir(this.bytesDir)
  }

  /** Keeps a new media's bytes (when it has some) and then its entry: both durable on return. */
  addMedia(entry: Omit<MediaEntry, 't' | 'file'>, bytes: Buffer | undefined): void {
    let file: string | undefined
    if (bytes !== undefined) {
      file = bytesFileOf(entry.id)
      writeDurably(path.join(this.bytesDir, file), bytes)
    }
    this.append({ t: 'media', ...entry, ...(file === undefined ? {} : { file }) })
  }

  /** Removes a deleted media's bytes, once its deletion is in the journal. */
  dropBytes(id: string): void {
    rmSync(path.join(this.bytesDir, bytesFileOf(id)), { force: true })
    fsyncDir(this.bytesDir)
  }

  append(entry: JournalEntry): void {
    const fd = openSync(this.journal, 'a', 0o600)
    try {
      const line = Buffer.from(`${JSON.stringify(entry)}\n`)
      for (let written = 0; written < line.length; ) written += writeSync(fd, line, written, line.length - written)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }

  private sourceOf(entry: MediaEntry): ByteSource | undefined {
    if (entry.file === undefined) return undefined
    const file = path.join(this.bytesDir, path.basename(entry.file))
    try {
      return statSync(file).size === entry.size ? fileSource(file, entry.size) : undefined
    } catch {
      return undefined
    }
  }
}
