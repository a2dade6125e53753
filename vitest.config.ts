import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real processes (Alertmanager, PostgreSQL clients, stdio servers);
    // two workers match the two cores these machines have.
    pool: 'forks',
    maxWorkers: 2,
  },
});
