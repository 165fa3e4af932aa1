// The plugin's editors in a real browser: bundles browser/harness.tsx,
// serves it on a loopback port, drives Debian's chromium headless through
// playwright-core (never a downloaded browser), builds a query by clicking
// and typing as a user does, and checks the query JSON the editor emits.
//
//   node browser/run.mjs                       the test (npm run test:browser)
//   node browser/run.mjs --update-screenshots  also rewrite ../docs/img/editor-*.png
//
// Without /usr/bin/chromium (CAMPAIGNPULSE_CHROMIUM overrides the path) the
// test is skipped with the reason, unless CAMPAIGNPULSE_REQUIRE_BROWSER=1
// (set by .ci/run), which turns the skip into a failure.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const chromiumPath = process.env.CAMPAIGNPULSE_CHROMIUM || '/usr/bin/chromium';
const updateScreenshots = process.argv.includes('--update-screenshots');
const started = Date.now();

if (!existsSync(chromiumPath)) {
  const why = `${chromiumPath} not found (Debian: apt-get install -y chromium)`;
  if (process.env.CAMPAIGNPULSE_REQUIRE_BROWSER === '1') {
    console.error(`browser test: FAILED: chromium required (CAMPAIGNPULSE_REQUIRE_BROWSER=1) but ${why}`);
    process.exit(1);
  }
  console.log(`browser test: skipped: ${why}`);
  process.exit(0);
}

// 1. Bundle the harness (webpack's filesystem cache makes reruns quick).
const { default: webpack } = await import('webpack');
const { createRequire } = await import('node:module');
const config = createRequire(import.meta.url)('./webpack.harness.js');
const outDir = config.output.path;
await new Promise((resolve, reject) =>
  webpack(config, (err, stats) => {
    if (err || stats.hasErrors()) {
      reject(err ?? new Error(stats.toString('errors-only')));
    } else {
      resolve();
    }
  })
);

// 2. Serve it.
const page = `<!doctype html><html><head><meta charset="utf-8"><title>campaignpulse editors</title><link rel="icon" href="data:,"></head>
<body style="margin:0"><div id="root"></div><script src="/harness.js"></script></body></html>`;
const iconURL = '/public/build/img/icons/';
const iconDir = join(root, 'node_modules', '@grafana', 'ui', 'dist', 'public', 'img', 'icons');
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    return;
  }
  // @grafana/ui loads its icons from where Grafana serves them.
  const [base, rel] = path.startsWith(iconURL) ? [iconDir, path.slice(iconURL.length)] : [outDir, path];
  const file = normalize(join(base, rel));
  if (!file.startsWith(base) || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': file.endsWith('.svg') ? 'image/svg+xml' : 'text/javascript' }).end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

// 3. Drive chromium with a fresh, empty profile.
const { chromium } = await import('playwright-core');
const profile = mkdtempSync(join(tmpdir(), 'campaignpulse-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  viewport: { width: 1140, height: 900 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let failed = false;
try {
  const p = await browser.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  // Grafana serves its web fonts itself and npm has no package of them: the
  // page falls back to system fonts, and those requests are not errors here.
  const isFont = (u) => u.includes('/public/fonts/');
  p.on('console', (m) => m.type() === 'error' && !isFont(m.location().url) && errors.push(m.text()));
  p.on('response', (r) => r.status() >= 400 && !isFont(r.url()) && errors.push(`${r.status()} ${r.url()}`));
  await p.goto(url);
  const sel = await p.evaluate(() => {
    const s = window.cpSelectors;
    return { ...s, editorMetrics: s.queryEditor.editor('metrics'), groupByCampaign: s.metrics.groupBy('campaign'),
      groupByMedia: s.metrics.groupBy('media_source'), filterApp: s.filters.input('app_id'), filterMedia: s.filters.input('media_source') };
  });
  const byId = (id) => p.getByTestId(id);
  // @grafana/ui checkboxes and switches hide their <input>; a user clicks
  // the label drawn for it.
  const toggle = async (id) => {
    const input = byId(id);
    const before = await input.isChecked();
    await input.locator('xpath=ancestor::label[1] | following-sibling::label[1]').first().click();
    assert.notEqual(await input.isChecked(), before, `clicking ${id} toggles it`);
  };
  const json = async (id) => JSON.parse(await byId(id).textContent());

  // Query editor: a marketer's "revenue in USD by media source and campaign, top 5, today so far, for one app".
  const query = p.getByTestId('harness-query');
  await query.getByRole('radio', { name: 'Metrics' }).click();
  await byId(sel.editorMetrics).waitFor();
  await query.getByRole('radio', { name: 'Revenue (USD)' }).click();
  await query.getByRole('radio', { name: 'Day' }).click();
  await query.getByRole('radio', { name: 'Table' }).click();
  await toggle(sel.groupByMedia);
  await toggle(sel.groupByCampaign);
  await byId(sel.metrics.topN).fill('5');
  await byId(sel.metrics.topN).blur();
  await toggle(sel.metrics.cumulative);
  await byId(sel.filterApp).fill('id1, $app_id');
  await byId(sel.filterApp).blur();
  const emitted = await json('harness-query-json');
  assert.deepEqual(emitted.query, {
    refId: 'A',
    queryType: 'metrics',
    measure: 'revenue_usd',
    granularity: 'day',
    format: 'table',
    groupBy: ['media_source', 'campaign'],
    topN: 5,
    cumulative: true,
    filters: { app_id: ['id1', '$app_id'] },
  });
  assert.ok(emitted.runs >= 8, `every change runs the query (ran ${emitted.runs} times)`);
  await shot(query, 'editor-query');

  // Switching type keeps only the target's identity and the new defaults.
  await query.getByRole('radio', { name: 'Consumer lag' }).click();
  assert.deepEqual((await json('harness-query-json')).query, { refId: 'A', queryType: 'lag' });
  await query.getByRole('radio', { name: 'Storage' }).click();
  assert.deepEqual((await json('harness-query-json')).query, { refId: 'A', queryType: 'storage' });

  // Variable editor: campaigns of the selected apps.
  const variable = p.getByTestId('harness-variable');
  await variable.getByRole('radio', { name: 'campaign' }).click();
  await variable.getByTestId(sel.filterApp).fill('$app_id');
  await variable.getByTestId(sel.filterApp).blur();
  assert.deepEqual(await json('harness-variable-json'), {
    refId: 'variable',
    queryType: 'variables',
    dimension: 'campaign',
    filters: { app_id: ['$app_id'] },
  });
  await shot(variable, 'editor-variable');

  // Config editor: TLS on with a CA, then off again: the hidden CA must go.
  const config = p.getByTestId('harness-config');
  await toggle(sel.config.kafkaTls);
  await byId(sel.config.kafkaTlsCaCert).fill('-----BEGIN CERTIFICATE-----');
  assert.equal((await json('harness-config-json')).jsonData.kafkaTlsCaCert, '-----BEGIN CERTIFICATE-----');
  await shot(config, 'editor-config');
  await toggle(sel.config.kafkaTls);
  assert.deepEqual((await json('harness-config-json')).jsonData, {
    mongoDatabase: 'campaignpulse',
    kafkaBrokers: 'kafka:9092',
    timeZone: 'UTC',
  });
  assert.equal(await byId(sel.config.kafkaTlsCaCert).count(), 0, 'the CA field is hidden with TLS off');
  await byId(sel.config.mongoUri).waitFor();

  assert.deepEqual(errors, [], 'the page logged errors');
  console.log(`browser test: passed in ${((Date.now() - started) / 1000).toFixed(1)}s (chromium ${browser.browser()?.version() ?? ''})`);
} catch (e) {
  failed = true;
  console.error(`browser test: FAILED: ${e.stack ?? e}`);
} finally {
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

// shot saves an element's screenshot under .run/ on every run (to look at a
// failure) and under docs/img/ with --update-screenshots.
async function shot(locator, name) {
  const runDir = join(root, '..', '.run', 'browser');
  mkdirSync(runDir, { recursive: true });
  await locator.screenshot({ path: join(runDir, `${name}.png`) });
  if (updateScreenshots) {
    const docs = join(root, '..', 'docs', 'img');
    mkdirSync(docs, { recursive: true });
    await locator.screenshot({ path: join(docs, `${name}.png`) });
  }
}
