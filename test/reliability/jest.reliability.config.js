// `npm run test:reliability`: the reliability and security suite, apart from `npm test` (whose
// config ignores this folder). Same transform and path aliases as jest.config.js
// (test/support/jest.shared.js), a database set-up of its own;
// a summary table of what was tried and what held is printed at the end (summary-reporter.js).
//
// RELIABILITY_PROFILE=full runs the numbers; the default `ci` profile the same checks
// with smaller counts (see support/profile.ts).
const shared = require('../support/jest.shared.js');

/** @type {import('jest').Config} */
module.exports = {
  ...shared,
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/test/reliability/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/reliability/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/reliability/support/summary-reporter.js'],
  // Each test sets its own bound from its profile's figures.
  testTimeout: 120_000,
};
