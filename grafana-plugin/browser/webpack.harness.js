// Bundles browser/harness.tsx with everything it imports (React and the
// real @grafana/ui included, nothing external) for the browser test. A
// filesystem cache under node_modules/.cache keeps rebuilds short.
const path = require('path');

// The plugin build's TypeScript/JSX rule, so the harness compiles the
// editors exactly as the plugin does.
const [swcRule] = require('../webpack.config.js')({}, { mode: 'development' }).module.rules;

module.exports = {
  mode: 'development',
  context: path.resolve(__dirname, '..'),
  entry: { harness: './browser/harness.tsx' },
  devtool: false,
  target: 'web',
  output: { path: path.resolve(__dirname, '..', 'node_modules', '.cache', 'browser-harness'), filename: '[name].js', publicPath: '/' },
  cache: { type: 'filesystem', cacheDirectory: path.resolve(__dirname, '..', 'node_modules', '.cache', 'webpack-harness') },
  resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx', '.mjs'] },
  module: {
    rules: [
      swcRule,
      // Stylesheets imported by @grafana/ui's dependencies: kept as text,
      // the components style themselves with emotion.
      { test: /\.css$/, type: 'asset/source' },
      { test: /\.(svg|png|woff2?|ttf|eot)$/, type: 'asset/inline' },
    ],
  },
  performance: { hints: false },
  infrastructureLogging: { level: 'error' },
  stats: 'errors-only',
};
