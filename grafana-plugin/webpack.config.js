// Production build of the plugin frontend: dist/module.js as an AMD module
// (Grafana loads plugins with SystemJS, which understands AMD), with the
// same shared dependencies as @grafana/create-plugin left to Grafana so the
// plugin runs on the host's React and @grafana/* instances.
const path = require('path');
const CopyPlugin = require('copy-webpack-plugin');
const pkg = require('./package.json');

const PLUGIN_ID = 'campaignpulse-metrics-datasource';

const externals = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  // React 19 (Grafana >= 13.2) shares the JSX runtime too.
  'react/jsx-runtime',
  'react/jsx-dev-runtime',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  /^@grafana\/i18n/i,
];

// plugin.json carries build-time placeholders, as in the create-plugin layout.
function stampPluginJSON(content) {
  return content
    .toString()
    .replace(/%VERSION%/g, pkg.version)
    .replace(/%TODAY%/g, new Date().toISOString().slice(0, 10));
}

module.exports = (env, argv) => ({
  mode: argv.mode || 'production',
  context: __dirname,
  entry: { module: './src/module.ts' },
  devtool: argv.mode === 'development' ? 'eval-source-map' : 'source-map',
  target: 'web',
  externals,
  output: {
    path: path.resolve(__dirname, 'dist'),
    filename: '[name].js',
    library: { type: 'amd' },
    publicPath: `public/plugins/${PLUGIN_ID}/`,
    uniqueName: PLUGIN_ID,
    // The Go backend (gpx_*) is built into the same folder by `make plugin`.
    clean: { keep: /^(gpx_|go_plugin_build_manifest)/ },
  },
  resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
  module: {
    rules: [
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2022',
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'automatic' } },
            },
          },
        },
      },
    ],
  },
  plugins: [
    new CopyPlugin({
      patterns: [
        { from: 'src/plugin.json', to: '.', transform: stampPluginJSON, noErrorOnMissing: true },
        { from: 'src/img', to: 'img', noErrorOnMissing: true },
        { from: 'README.md', to: '.', noErrorOnMissing: true },
      ],
    }),
  ],
  performance: { hints: false },
});
