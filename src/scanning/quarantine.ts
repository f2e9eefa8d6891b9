/**
 * What happens to infected bytes: the blob is moved to the store's quarantine (`quarantine/<key>
 * .<time>`: kept as evidence, never listed, never served), and every stored record using it
 * becomes `failed` with code `infected`, holding the quarantine key. Identical bytes share one
 * blob, so records stored before the signature existed are infected too.
 */
import type { BlobStore } from '../blobs/blob-store.js'
import type { ScanVerdicts } from '../catalog/catalog.js'
import { toMediagateError } from '../errors.js'
import type { MediaError, MediaRecord, ScanResult } from '../media/record.js'

export function infectedError(signature: string | null): MediaError {
  const name = signature ?? 'an unnamed signature'
  return { code: 'infected', message: `the malware scanner found ${name}; the bytes are quarantined`, vendorCode: signature }
}

export interface Quarantined {
  /** Where the blob went; null when it was already gone (another process moved it first). */
  quarantineKey: string | null
  /** Stored records that shared the blob and are now failed/infected. */
  records: MediaRecord[]
  error: MediaError
}

export async function quarantineInfected(deps: { blobs: BlobStore; catalog: Pick<ScanVerdicts, 'quarantineBlob'> }, blobKey: string, scan: ScanResult): Promise<Quarantined> {
  const quarantineKey = await moveAside(deps.blobs, blobKey)
  const error = infectedError(scan.signature)
  const records = await deps.catalog.quarantineBlob(blobKey, quarantineKey, error, scan)
  return { quarantineKey, records, error }
}

async function moveAside(blobs: BlobStore, key: string): Promise<string | null> {
  // A store without a quarantine keeps the bytes where they are: the records are failed, so
  // nothing serves them, and erasing them deletes the blob.
  if (!blobs.quarantine) return key
  try {
    return await blobs.quarantine(key)
  } catch (err) {
    if (toMediagateError(err).code === 'not_found') return null
    throw err
  }
}
