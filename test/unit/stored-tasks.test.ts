/** Which tasks a stored media is queued for: no derive task for bytes the deriver would skip. */
import { describe, expect, it } from 'vitest'
import type { StoredOutcome } from '../../src/catalog/catalog.js'
import { DERIVE_TASK, withStoredTasks } from '../../src/derivatives/derive-job.js'
import { NO_FFMPEG } from '../../src/derivatives/plan.js'

const stored = (sniffedMime: string | null, mimeType = 'image/jpeg'): StoredOutcome => ({ status: 'stored', sha256: 'a'.repeat(64), size: 51_200, blobKey: 'k', sniffedMime, mimeType })
const withFfmpeg = { ffmpeg: {}, stripMetadata: false }
const noFfmpeg = { ffmpeg: undefined, stripMetadata: false }

describe('withStoredTasks', () => {
  it('queues the derive task for bytes the deriver decodes', () => {
    expect(withStoredTasks(stored('image/jpeg'), [DERIVE_TASK], noFfmpeg)).toEqual({ ...stored('image/jpeg'), enqueue: [DERIVE_TASK] })
    expect(withStoredTasks(stored('video/mp4', 'video/mp4'), [DERIVE_TASK], withFfmpeg).enqueue).toEqual([DERIVE_TASK])
  })

  it('records the deriver’s own reason instead for bytes it would skip, whatever type they were declared as', () => {
    const unrecognized = withStoredTasks(stored(null), [DERIVE_TASK], withFfmpeg)
    expect(unrecognized.enqueue).toBeUndefined()
    expect(unrecognized.deriveSkipped).toBe('nothing to derive from an unrecognized type')
    expect(withStoredTasks(stored('application/pdf'), [DERIVE_TASK], withFfmpeg).deriveSkipped).toBe('nothing to derive from application/pdf')
    const voice = withStoredTasks(stored('audio/ogg', 'audio/ogg'), [DERIVE_TASK], noFfmpeg)
    expect(voice).toMatchObject({ deriveSkipped: NO_FFMPEG })
    expect(voice.enqueue).toBeUndefined()
  })

  it('keeps the other task kinds, and leaves the outcome alone when nothing is queued', () => {
    expect(withStoredTasks(stored(null), [DERIVE_TASK, 'scan'], withFfmpeg)).toMatchObject({ enqueue: ['scan'], deriveSkipped: expect.any(String) })
    expect(withStoredTasks(stored(null), ['scan'], withFfmpeg)).toEqual({ ...stored(null), enqueue: ['scan'] })
    expect(withStoredTasks(stored(null), [], withFfmpeg)).toEqual(stored(null))
  })
})
