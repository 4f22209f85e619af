// One Jest setup for every project: TypeScript through SWC (no type checking here; `npm run typecheck` does that).
module.exports = {
  testEnvironment: require.resolve('./jest.environment.js'),
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  testTimeout: 120000,
  reporters: ['default', require.resolve('./tools/test/summary-reporter.js')],
};
