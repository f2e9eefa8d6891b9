import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more forks than that only adds contention for the suites that spawn processes.
    pool: 'forks',
    maxWorkers: 2,
    setupFiles: ['test/helpers/loopback-only.ts'],
  },
})
