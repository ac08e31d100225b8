// End to end in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser is downloaded) against the real `clustergenie serve` on a free port, embedded
// mode, in a fresh data directory, running the steps of e2e/steps/ (see lib.mjs). Screenshots
// of every page go to test-results/screenshots/
// (`npm run screenshots`: to docs/screenshots/, the set the README shows).
//
//   CLUSTERGENIE_BIN  the binary (default ../target/debug/clustergenie)
//   CHROMIUM          the browser (default /usr/bin/chromium)
//   SCREENSHOTS_DIR   where screenshots go
//   E2E_STEPS         run only the step files whose names contain this text
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { steps } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const bin = process.env.CLUSTERGENIE_BIN ?? join(root, 'target/debug/clustergenie');
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

/** Starts `clustergenie serve` (on `port` and `data` when given: a restart) and waits until ready. */
async function startServer(port, data) {
  port ??= await freePort();
  data ??= mkdtempSync(join(tmpdir(), 'cg-e2e-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLUSTERGENIE_') && k !== 'DATABASE_URL' && k !== 'REDIS_URL' && k !== 'KAFKA_BROKERS'));
  const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', data, '--sim-delay-ms', '300'], {
    cwd: data, env, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-20_000); });
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { base, port, child, data, exited, log: () => log };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`clustergenie serve did not become ready:\n${log}`);
}

/** SIGTERM, then the time it took to exit; SIGKILL and an error past `within` ms. */
async function stopServer(server, within = 15_000) {
  const started = Date.now();
  server.child.kill('SIGTERM');
  const late = new Promise((ok) => setTimeout(() => ok(null), within));
  const exit = await Promise.race([server.exited, late]);
  if (!exit) {
    server.child.kill('SIGKILL');
    await server.exited;
    throw new Error(`clustergenie serve still ran ${within} ms after SIGTERM`);
  }
  return Date.now() - started;
}

// The steps, file by file (e2e/steps/NN-name.mjs, in the order of their names).
const only = process.env.E2E_STEPS ?? '';
const stepFiles = readdirSync(join(here, 'steps'))
  .filter((f) => f.endsWith('.mjs') && f.includes(only))
  .sort();
for (const file of stepFiles) await import(pathToFileURL(join(here, 'steps', file)).href);

const server = await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(STEP_TIMEOUT);
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
// `ctx.restart()`: SIGTERM the server (it must exit within 15 s, live streams open or not),
// then start it again on the same port and data; resolves to how long the stop took.
const ctx = { page, base: server.base };
let current = server;
ctx.restart = async () => {
  const took = await stopServer(current);
  current = await startServer(current.port, current.data);
  return took;
};
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
await stopServer(current).catch((e) => { failed += 1; console.log(`FAIL stopping the server\n${e}`); });
rmSync(current.data, { recursive: true, force: true });
if (failed) {
  console.log(`--- server log ---\n${current.log()}`);
  console.log(`${failed} of ${steps.length} failed`);
  process.exit(1);
}
console.log(`all ${steps.length} passed`);
