/** Two projects: pure unit specs beside the code (and integration clients against local fake
 *  servers), and end-to-end tests that boot the app on the real PostgreSQL and Redis (one
 *  template-cloned database per test file). Type checking is `npm run typecheck`'s job. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
  // content-disposition 3 (under @fastify/static, used for the /docs UI) ships only ES modules;
  // Node 20 requires it natively, Jest's CommonJS runtime needs it transpiled.
  '/node_modules/content-disposition/.+\\.js$': [
    'ts-jest',
    { tsconfig: { allowJs: true, module: 'commonjs', isolatedModules: true }, diagnostics: false },
  ],
};
const transformIgnorePatterns = ['/node_modules/(?!content-disposition/)'];
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform,
      transformIgnorePatterns,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
