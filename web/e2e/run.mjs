// End to end in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser is downloaded) against the real `clustergenie serve` on a free port, embedded
// mode, in a fresh data directory. Screenshots of every page go to test-results/screenshots/
// (`npm run screenshots`: to docs/screenshots/, the set the README shows).
//
//   CLUSTERGENIE_BIN  the binary (default ../target/debug/clustergenie)
//   CHROMIUM          the browser (default /usr/bin/chromium)
//   SCREENSHOTS_DIR   where screenshots go
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = process.env.CLUSTERGENIE_BIN ?? join(root, 'target/debug/clustergenie');
const shots = resolve(process.env.SCREENSHOTS_DIR ?? join(here, '../test-results/screenshots'));
const axeSource = readFileSync(join(here, '../node_modules/axe-core/axe.min.js'), 'utf8');
const STEP_TIMEOUT = 20_000;

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

async function startServer() {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'cg-e2e-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLUSTERGENIE_') && k !== 'DATABASE_URL' && k !== 'REDIS_URL' && k !== 'KAFKA_BROKERS'));
  const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', data, '--sim-delay-ms', '300'], {
    cwd: data, env, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-20_000); });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { base, child, data, log: () => log };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`clustergenie serve did not become ready:\n${log}`);
}

/** Fails on serious or critical accessibility violations of the page as it is. */
async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    throw new Error(`${name}: accessibility violations:\n${bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`).join('\n')}`);
  }
}

async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

const steps = [];
function step(name, run) { steps.push({ name, run }); }

step('the dashboard loads with an empty log', async ({ page, base }) => {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.getByText('The log is empty').waitFor();
  await page.getByText('Live updates: live').waitFor();
  await axe(page, 'dashboard');
});

step('a cluster is created from the clusters page', async (ctx) => {
  const { page, base } = ctx;
  await page.goto(`${base}/clusters`);
  await page.getByText('No clusters yet.').waitFor();
  await axe(page, 'clusters (empty)');
  await page.getByRole('button', { name: 'Create cluster' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Bad Name');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#cluster-name-help.error').waitFor();
  await axe(page, 'create dialog');
  await page.getByLabel('Name', { exact: true }).fill('web-prod');
  await page.getByLabel('Region', { exact: true }).selectOption('fra1');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name: 'web-prod' }).waitFor();
  ctx.clusterUrl = page.url();
  if (!/\/clusters\/cl_[0-9a-f]+$/.test(ctx.clusterUrl)) throw new Error(`detail URL ${ctx.clusterUrl}`);
  await page.getByText('fra1').first().waitFor();
  await axe(page, 'cluster detail');
  await shot(page, 'cluster-detail');
});

step('a change made elsewhere shows up live, without a reload', async ({ page, base }) => {
  await page.goto(`${base}/clusters`);
  await page.getByRole('link', { name: 'web-prod' }).waitFor();
  const made = await fetch(`${base}/v1/clusters`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'api-made', region: 'nyc1' }),
  });
  if (made.status !== 201) throw new Error(`POST /v1/clusters: ${made.status}`);
  await page.getByRole('link', { name: 'api-made' }).waitFor();
  await page.getByText('of 2').waitFor();
  await shot(page, 'clusters');
});

step('search and sort live in the URL, and survive a reload', async ({ page, base }) => {
  await page.goto(`${base}/clusters`);
  await page.getByLabel('Search clusters by name').fill('api');
  await page.waitForURL(/search=api/);
  await page.getByRole('link', { name: 'api-made' }).waitFor();
  await page.getByRole('link', { name: 'web-prod' }).waitFor({ state: 'detached' });
  await page.getByRole('button', { name: /^Name/ }).click();
  await page.waitForURL(/sort_by=name/);
  await page.reload();
  await page.getByRole('link', { name: 'api-made' }).waitFor();
  if (await page.getByRole('link', { name: 'web-prod' }).count()) throw new Error('the search was lost on reload');
});

step('a deep link reloads into the cluster, renamed in place', async ({ page, clusterUrl }) => {
  await page.goto(clusterUrl);
  await page.getByRole('heading', { name: 'web-prod' }).waitFor();
  await page.getByRole('button', { name: 'Rename or move' }).click();
  await page.getByLabel('Name', { exact: true }).fill('web-production');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'web-production' }).waitFor();
  await page.getByRole('link', { name: 'History' }).click();
  await page.getByText('cluster.renamed').waitFor();
  await axe(page, 'cluster history');
  await shot(page, 'cluster-history');
});

step('deleting asks for the name and leaves the list', async ({ page, clusterUrl }) => {
  await page.goto(clusterUrl);
  await page.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog').getByRole('button', { name: 'Delete' });
  if (!(await confirm.isDisabled())) throw new Error('delete enabled before the name was typed');
  await page.getByLabel("Type the cluster's name to confirm").fill('web-production');
  await confirm.click();
  await page.getByRole('heading', { name: 'Clusters' }).waitFor();
  await page.getByRole('link', { name: 'web-production' }).waitFor({ state: 'detached' });
});

step('the dashboard and system pages show the fleet and the read models', async ({ page, base }) => {
  await page.goto(`${base}/`);
  await page.getByTestId('clusters-healthy').getByText('1').waitFor();
  await page.getByText('cluster.deleted').waitFor();
  await shot(page, 'dashboard');
  await page.getByRole('link', { name: 'System' }).click();
  await page.getByRole('heading', { name: 'Projections' }).waitFor();
  await axe(page, 'system');
  await shot(page, 'system');
  await page.getByRole('button', { name: /Switch to dark theme|Switch to light theme/ }).click();
  await axe(page, 'system (other theme)');
});

step('an unknown console path shows the not-found page, an unknown API path a problem', async ({ page, base }) => {
  await page.goto(`${base}/no/such/page`);
  await page.getByRole('heading', { name: 'Nothing here' }).waitFor();
  const api = await fetch(`${base}/v1/no-such-thing`);
  if (api.status !== 404 || !(api.headers.get('content-type') ?? '').includes('problem+json')) {
    throw new Error(`GET /v1/no-such-thing: ${api.status} ${api.headers.get('content-type')}`);
  }
});

const server = await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(STEP_TIMEOUT);
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
const ctx = { page, base: server.base };
let failed = 0;
for (const { name, run } of steps) {
  const started = Date.now();
  try {
    await run(ctx);
    if (errors.length) throw new Error(`errors in the page: ${errors.splice(0).join('\n')}`);
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n${e.stack ?? e}`);
    await page.screenshot({ path: join(tmpdir(), `cg-e2e-failure-${failed}.png`) }).catch(() => {});
  }
}
await browser.close();
server.child.kill('SIGTERM');
rmSync(server.data, { recursive: true, force: true });
if (failed) {
  console.log(`--- server log ---\n${server.log()}`);
  console.log(`${failed} of ${steps.length} failed`);
  process.exit(1);
}
console.log(`all ${steps.length} passed`);
