/**
 * The catalog's migrations, in order. Each is code that compiles to DDL for either engine, so
 * one list serves SQLite and PostgreSQL. Versions only grow; a released migration never changes
 * (add a new one instead). `down` exists so the round trip can be tested and a bad release
 * rolled back by hand. Versions may have gaps (work merged in another order); they only grow.
 */
import type { CompiledQuery } from 'kysely'
import type { SqlDialect } from '../sql-dialect.js'
import { initial } from './0001_initial.js'
import { policiesAndDeletion } from './0002_policies_and_deletion.js'
import { forwarding } from './0003_forwarding.js'
import { dashboardSessions } from './0004_dashboard_sessions.js'
import { blobLeases } from './0005_blob_leases.js'
import { unfinishedAttempts } from './0006_unfinished_attempts.js'
import { meta2026 } from './0007_meta_2026.js'
import { tasksAndDerivatives } from './0008_tasks_and_derivatives.js'
import { malwareScans } from './0009_malware_scans.js'
import { traceParent } from './0010_trace_parent.js'
import { mediaHandles } from './0011_media_handles.js'
import { mediaCounts } from './0012_media_counts.js'
import { narrowMediaIndexes } from './0013_narrow_media_indexes.js'
import { choreRuns } from './0014_chore_runs.js'
import { leaseBlobsFunction } from './0015_lease_blobs_function.js'
import { leaseBlobsById } from './0016_lease_blobs_by_id.js'

export interface Migration {
  version: number
  name: string
  up(dialect: SqlDialect): CompiledQuery[]
  down(dialect: SqlDialect): CompiledQuery[]
}

export const MIGRATIONS: readonly Migration[] = [initial, policiesAndDeletion, forwarding, dashboardSessions, blobLeases, unfinishedAttempts, meta2026, tasksAndDerivatives, malwareScans, traceParent, mediaHandles, mediaCounts, narrowMediaIndexes, choreRuns, leaseBlobsFunction, leaseBlobsById]

export const LATEST_VERSION = MIGRATIONS.at(-1)?.version ?? 0
