// Transform and path aliases shared by the repository's jest configs (jest.config.js and the
// reliability suite's).
const path = require('node:path');

module.exports = {
  rootDir: path.resolve(__dirname, '../..'),
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@accountable/(config|platform|database|event-store|accounts|twilio|secrets|ledger|event-streams)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testEnvironment: 'node',
};
