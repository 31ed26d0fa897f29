// One runner for every tier. Tiers are chosen by suffix:
//   *.spec.ts      pure unit tests beside the code (no database)
//   *.int.spec.ts  integration tests against real PostgreSQL (own database per file)
//   *.e2e.spec.ts  the HTTP service or CLI end to end (own database per file)
// Every tier gets the same global setup: one PostgreSQL for the run (embedded unless
// DATABASE_URL is set) and a migrated template database that each file clones.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test', '<rootDir>/db'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/reliability/', '/test/bench/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@accountable/(config|platform|database|event-store|projections|accounts|twilio|secrets)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  testTimeout: 60_000,
};
