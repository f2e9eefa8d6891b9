/**
 * The Catalog conformance suite: one set of behaviours every engine must show. Each test gets a
 * fresh, migrated database; `open()` gives another catalog on the same database (another pool,
 * another connection: what a second process would have), closed after the test.
 */
import { afterEach, beforeEach, describe } from 'vitest'
import type { Catalog } from '../../src/catalog/catalog.js'
import type { MigrationOutcome } from '../../src/catalog/migrate.js'
import { blobLeaseTests } from './conformance/blob-leases.js'
import { claimTests } from './conformance/claim.js'
import { copyTests } from './conformance/copy.js'
import { forwardTests } from './conformance/forwards.js'
import { lifecycleTests } from './conformance/lifecycle.js'
import { meta2026Tests } from './conformance/meta-2026.js'
import { policyTests } from './conformance/policies.js'
import { queryTests } from './conformance/query.js'
import { recordTests } from './conformance/record.js'
import { settleTests } from './conformance/settle.js'
import { scanTests } from './conformance/scans.js'
import { searchTests } from './conformance/search.js'
import { sessionTests } from './conformance/sessions.js'
import { taskTests } from './conformance/tasks.js'
import { handleTests } from './conformance/handles.js'
import { countTests } from './conformance/counts.js'
import { choreTests } from './conformance/chores.js'

export type TestCatalog = Catalog & {
  migrateTo(version: number): Promise<MigrationOutcome>
  schemaVersion(): Promise<number>
  compactCounts(): Promise<void>
}

export interface CatalogFixture {
  /** Opens a catalog on this fixture's database (not migrated). */
  open(): Promise<TestCatalog>
  /** Removes the database (temp file, schema). */
  cleanup(): Promise<void>
}

export interface ConformanceContext {
  /** The migrated catalog of the current test. */
  catalog(): TestCatalog
  /** Another catalog on the same database, closed after the test. */
  open(): Promise<TestCatalog>
}

export function catalogConformance(name: string, setup: () => Promise<CatalogFixture>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip ?? false)(`Catalog conformance: ${name}`, () => {
    let fixture: CatalogFixture
    let opened: TestCatalog[] = []
    let main: TestCatalog | undefined

    const ctx: ConformanceContext = {
      catalog() {
        if (!main) throw new Error('no catalog: beforeEach did not run')
        return main
      },
      async open() {
        const catalog = await fixture.open()
        opened.push(catalog)
        return catalog
      },
    }

    beforeEach(async () => {
      fixture = await setup()
      opened = []
      main = await ctx.open()
      await main.migrate()
    })

    afterEach(async () => {
      await Promise.allSettled(opened.map((c) => c.close()))
      main = undefined
      await fixture.cleanup()
    })

    lifecycleTests(ctx)
    recordTests(ctx)
    claimTests(ctx)
    settleTests(ctx)
    queryTests(ctx)
    searchTests(ctx)
    policyTests(ctx)
    forwardTests(ctx)
    copyTests(ctx)
    sessionTests(ctx)
    blobLeaseTests(ctx)
    meta2026Tests(ctx)
    taskTests(ctx)
    handleTests(ctx)
    scanTests(ctx)
    countTests(ctx)
    choreTests(ctx)
  })
}
