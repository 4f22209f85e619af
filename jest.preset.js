// One Jest setup for every project: TypeScript through SWC (no type checking here; `npm run typecheck` does that).
// @platformatic/kafka ships ESM only; Node 20 loads it with require(), but Jest's module runtime cannot (before Node
// 24.9), so SWC turns it into CommonJS for tests.
const swc = (syntax) => ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax } }, module: { type: 'commonjs' } }];
module.exports = {
  testEnvironment: require.resolve('./jest.environment.js'),
  transform: { '^.+\\.ts$': swc('typescript'), '/node_modules/@platformatic/.+\\.js$': swc('ecmascript') },
  transformIgnorePatterns: ['/node_modules/(?!@platformatic/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  testTimeout: 120000,
  reporters: ['default', require.resolve('./tools/test/summary-reporter.js')],
};
