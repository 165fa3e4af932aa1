// Jest for the plugin frontend: SWC transpiles TypeScript, jsdom hosts the
// editors. @grafana/* ship CommonJS builds, but some of their dependencies
// are ESM only, so those are transpiled too (the create-plugin list).
const esModules = [
  'd3',
  'd3-[a-z-]+',
  'delaunator',
  'internmap',
  'robust-predicates',
  'ol',
  'marked',
  'uuid',
  'react-colorful',
  'react-calendar',
  '@wojtekmaj',
  'lodash-es',
  'get-user-locale',
  'memoize',
  'mimic-function',
  'rbush',
  'quickselect',
  'earcut',
  'pbf',
  'color-(space|parse|rgba|name)',
  '@react-hookz',
  '@ver0/deep-equal',
];

module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  setupFilesAfterEnv: ['<rootDir>/jest-setup.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { transform: { react: { runtime: 'automatic' } } } }],
    '^.+\\.mjs$': ['@swc/jest'],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esModules.join('|')})/)`],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
    '^react-inlinesvg$': '<rootDir>/jest-mocks/react-inlinesvg.tsx',
  },
};
