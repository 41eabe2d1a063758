import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Forks, not threads: integration tests start and signal child processes (redis-server),
    // which is safer from a process than from a worker thread.
    pool: 'forks',
    testTimeout: 60_000,
    // Generous because a hook may start a Redis Cluster or run migrations on a cold database.
    hookTimeout: 120_000,
  },
});
