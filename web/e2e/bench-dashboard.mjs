// Console benchmark: how much JavaScript a first visit to the Dashboard loads (gzip), and how
// long until the Dashboard shows data (the cluster counts and the projections' lag), in
// headless Chromium (Debian's /usr/bin/chromium) against a running server, each run in a
// fresh browser context (nothing cached). Prints the median and the slowest run.
//
//   node e2e/bench-dashboard.mjs [BASE_URL] [RUNS]     (default http://127.0.0.1:8080, 10)
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const runs = Number(process.argv[3] ?? 10);

async function visit(browser) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const scripts = [];
  page.on('response', async (response) => {
    if (response.request().resourceType() !== 'script') return;
    try {
      scripts.push({ url: response.url(), body: await response.body() });
    } catch { /* a redirect has no body */ }
  });
  const started = performance.now();
  await page.goto(`${base}/`);
  await page.getByTestId('clusters-healthy').getByText(/\d/).waitFor({ timeout: 60_000 });
  await page.getByTestId('max-lag').getByText(/\d/).waitFor({ timeout: 60_000 });
  const ms = performance.now() - started;
  const gzip = scripts.reduce((sum, s) => sum + gzipSync(s.body).length, 0);
  await context.close();
  return { ms, gzip, files: scripts.length };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const head = await (await fetch(`${base}/v1/projections`)).json().catch(() => null);
await visit(browser); // warms the server, not the browser (every run has a fresh context)
const results = [];
for (let i = 0; i < runs; i += 1) results.push(await visit(browser));
await browser.close();
const times = results.map((r) => r.ms).sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const position = head?.items ? Math.max(...head.items.map((p) => p.position ?? 0)) : 'unknown';
console.log(`server ${base}, log position ${position}, ${runs} runs`);
console.log(`initial JavaScript: ${(results[0].gzip / 1024).toFixed(1)} KiB gzip in ${results[0].files} files`);
console.log(`dashboard with data: median ${median.toFixed(0)} ms, slowest ${times[times.length - 1].toFixed(0)} ms`);
