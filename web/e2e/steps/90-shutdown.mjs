// Shutdown with the console open: SIGTERM ends its live stream and the server exits at once;
// the console reconnects by itself with Last-Event-ID and misses nothing.
import { step } from '../lib.mjs';

async function createCluster(base, name) {
  const made = await fetch(`${base}/v1/clusters`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, region: 'nyc1' }),
  });
  if (made.status !== 201) throw new Error(`POST /v1/clusters: ${made.status} ${await made.text()}`);
  return made.json();
}

step('SIGTERM with the console open: the server exits, the console resumes where it was', async (ctx) => {
  const { page, base } = ctx;
  const resumes = [];
  page.on('request', async (request) => {
    if (!request.url().includes('/v1/events/stream')) return;
    resumes.push((await request.allHeaders())['last-event-id'] ?? null);
  });
  await page.goto(`${base}/clusters`);
  await page.getByText('Live updates: live').waitFor();
  const before = await createCluster(base, 'before-restart');
  await page.getByRole('link', { name: 'before-restart' }).waitFor();
  resumes.length = 0;

  // Exits within 15 s although the console holds a live stream (ctx.restart throws if not).
  const took = await ctx.restart();
  const after = await createCluster(base, 'after-restart');
  // The console reconnects on its own, without a reload, and shows what came meanwhile.
  await page.getByRole('link', { name: 'after-restart' }).waitFor();
  await page.getByText('Live updates: live').waitFor();
  if (!resumes.length) throw new Error('the console did not reconnect');
  const resumedFrom = Number(resumes[0]);
  if (!(resumedFrom >= before.position && resumedFrom < after.position)) {
    throw new Error(`resumed with Last-Event-ID ${resumes[0]} (before: ${before.position}, after: ${after.position}); stop took ${took} ms`);
  }
});
