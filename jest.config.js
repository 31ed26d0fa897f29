// Three tiers chosen by file suffix, run as two jest projects:
//   *.spec.ts      unit: pure specs beside the code; no database, no global setup
//                  (`npm run test:unit`, seconds)
//   *.int.spec.ts  integration against real PostgreSQL (own database per file)
//   *.e2e.spec.ts  the HTTP service or CLI end to end (own database per file)
// Only the `db` project has the global setup: one PostgreSQL for the run (embedded unless
// DATABASE_URL is set) and a migrated template database that each file clones. Jest runs a
// project's global setup only when a test of that project is selected. `npm test` runs both
// projects; their suffixes are disjoint, so no spec runs twice.

const shared = require('./test/support/jest.shared.js');

const roots = ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test', '<rootDir>/db'];
const ignored = ['/node_modules/', '/dist/', '/test/reliability/', '/test/bench/'];
const DATABASE_TIERS = ['\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$'];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  testTimeout: 60_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots,
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: [...ignored, ...DATABASE_TIERS],
    },
    {
      ...shared,
      displayName: 'db',
      roots,
      testMatch: ['**/*.int.spec.ts', '**/*.e2e.spec.ts'],
      testPathIgnorePatterns: ignored,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
