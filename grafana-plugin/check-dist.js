// Checks the production build the way Grafana will load it: dist/module.js
// is one AMD module whose dependencies are only the modules Grafana shares
// with plugins (so the plugin runs on the host's React and @grafana/*), and
// plugin.json and its logos were copied next to it.
const fs = require('fs');
const path = require('path');

const dist = path.join(__dirname, 'dist');
const SHARED = new Set(['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react', 'react-dom', 'react/jsx-runtime', 'rxjs']);
const fail = (msg) => {
  console.error(`check-dist: ${msg}`);
  process.exit(1);
};

const js = fs.readFileSync(path.join(dist, 'module.js'), 'utf8');
const m = /^(?:\/\*[\s\S]*?\*\/\s*)*define\((\[[^\]]*\])/.exec(js);
if (!m) {
  fail('dist/module.js is not an AMD module (define([...], ...))');
}
const deps = JSON.parse(m[1]);
for (const d of deps) {
  if (!SHARED.has(d)) {
    fail(`dist/module.js depends on ${d}, which Grafana does not share with plugins`);
  }
}
for (const bundled of ['react.transitional.element', 'react.element', '__SECRET_INTERNALS', '__CLIENT_INTERNALS']) {
  if (js.includes(bundled)) {
    fail(`dist/module.js bundles React (${bundled}); it must stay external`);
  }
}
if (fs.existsSync(path.join(__dirname, 'src', 'plugin.json'))) {
  const plugin = JSON.parse(fs.readFileSync(path.join(dist, 'plugin.json'), 'utf8'));
  if (/%[A-Z]+%/.test(JSON.stringify(plugin.info))) {
    fail('dist/plugin.json still has build placeholders');
  }
  for (const logo of Object.values(plugin.info.logos)) {
    if (!fs.existsSync(path.join(dist, logo))) {
      fail(`dist/${logo} (plugin.json logo) is missing`);
    }
  }
}
console.log(`check-dist: module.js is AMD on ${deps.join(', ')}; ${js.length} bytes`);
