// `npm run test:reliability`: the reliability and security suite, apart from `npm test` (whose
// config ignores this folder). Same transform, path aliases and database set-up as jest.config.js;
// a summary table of what was tried and what held is printed at the end (summary-reporter.js).
//
// RELIABILITY_PROFILE=full runs the numbers; the default `ci` profile the same checks
// with smaller counts (see support/profile.ts).
const base = require('../../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/test/reliability/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/reliability/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/reliability/support/summary-reporter.js'],
  // Each test sets its own bound from its profile's figures.
  testTimeout: 120_000,
};
