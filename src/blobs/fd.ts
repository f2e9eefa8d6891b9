/**
 * Descriptor-level fs calls as promises over the callback API. On the hot paths (every put,
 * every served file) these cost less than FileHandle's promise machinery per thread-pool trip.
 */
import { close, fstat, fsync, open, read } from 'node:fs'
import { promisify } from 'node:util'

export const openFd = promisify(open)
export const fsyncFd = promisify(fsync)
export const closeFd = promisify(close)
export const fstatFd = promisify(fstat)
export const readFd = promisify(read)
