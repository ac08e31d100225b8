// Auto-scaling: a metrics policy set through the cluster's Autoscaling tab (the editor's own
// check first), samples above its threshold, Evaluate now showing the decision and its reason,
// and the timeline showing a scale-up with its job over the decisions' chart; the Autoscaling
// page lists the cluster with its policy.
import { axe, shot, step } from '../lib.mjs';

async function send(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    // A user of its own: its own buckets (jobs_create is per user).
    method, headers: { 'content-type': 'application/json', 'x-user-id': 'e2e-autoscaling' }, body: body && JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

/** Waits until the cluster has `count` active droplets. */
async function activeDroplets(base, clusterId, count, within = 20_000) {
  const deadline = Date.now() + within;
  for (;;) {
    const list = await send(base, 'GET', `/v1/droplets?cluster_id=${clusterId}&status=active`);
    if (list.items.length >= count) return list.items;
    if (Date.now() > deadline) throw new Error(`${list.items.length} of ${count} droplets active`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** CPU samples of the last five minutes (one every 30 s), for the cluster and each droplet. */
function hotSamples(clusterId, droplets, value) {
  const now = Date.now();
  const samples = [];
  for (let i = 9; i >= 0; i -= 1) {
    const timestamp = new Date(now - i * 30_000 - 1000).toISOString();
    samples.push({ cluster_id: clusterId, type: 'cpu', value, timestamp });
    for (const d of droplets) samples.push({ cluster_id: clusterId, droplet_id: d.id, type: 'cpu', value, timestamp });
  }
  return { samples };
}

step('autoscaling: a metrics policy set in the editor, checked first', async (ctx) => {
  const { page, base } = ctx;
  const cluster = await send(base, 'POST', '/v1/clusters', { name: 'scale-web', region: 'fra1' });
  await send(base, 'POST', '/v1/droplets', {
    cluster_id: cluster.id, name: 'scale-web-1', region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
  });
  const droplets = await activeDroplets(base, cluster.id, 1);
  ctx.scale = { cluster, droplets };
  await page.goto(`${base}/clusters/${cluster.id}`);
  await page.getByRole('navigation', { name: 'Cluster' }).getByRole('link', { name: 'Autoscaling' }).click();
  await page.waitForURL(/\/autoscaling$/);
  await page.getByTestId('no-policy').waitFor();
  if (!(await page.getByRole('button', { name: 'Evaluate now' }).isDisabled())) throw new Error('Evaluate now without a policy');
  await axe(page, 'autoscaling (no policy)');
  await page.getByRole('radio', { name: 'Metrics' }).check();
  await page.getByLabel('Min droplets').fill('1');
  await page.getByLabel('Max droplets').fill('3');
  await page.getByLabel('Cooldown (s)').fill('60');
  await page.getByLabel('Metric', { exact: true }).selectOption('cpu');
  await page.getByLabel('Scale up above (%)').fill('80');
  // The band is checked in the form: the lower threshold must be below the upper one.
  await page.getByLabel('Scale down below (%)').fill('90');
  await page.getByRole('button', { name: 'Create policy' }).click();
  await page.locator('#policy-scale_down_threshold-help').getByText(/^below the scale-up threshold/).waitFor();
  await axe(page, 'autoscaling (invalid)');
  await page.getByLabel('Scale down below (%)').fill('30');
  await page.getByLabel('Window (s)').fill('300');
  await page.getByRole('button', { name: 'Create policy' }).click();
  // Saved: the editor now edits the policy, which can be removed.
  await page.getByRole('button', { name: 'Save policy' }).waitFor();
  await page.getByRole('button', { name: 'Remove policy' }).waitFor();
  // Read back (a read model may trail the command by a moment).
  let policy = null;
  for (const deadline = Date.now() + 5000; !policy; await new Promise((r) => setTimeout(r, 200))) {
    const response = await fetch(`${base}/v1/clusters/${cluster.id}/autoscaling`);
    if (response.ok) policy = await response.json();
    else if (Date.now() > deadline) throw new Error(`GET the policy: ${response.status} ${await response.text()}`);
  }
  if (policy.type !== 'metrics' || policy.scale_up_threshold !== 80 || policy.scale_down_threshold !== 30 || policy.max_droplets !== 3) {
    throw new Error(`the policy saved: ${JSON.stringify(policy)}`);
  }
});

step('autoscaling: Evaluate now over hot samples scales up, with its reason and job', async ({ page, base, scale }) => {
  const { cluster, droplets } = scale;
  await send(base, 'POST', '/v1/metrics', hotSamples(cluster.id, droplets, 92));
  await page.getByRole('button', { name: 'Evaluate now' }).click();
  const result = page.getByTestId('evaluation');
  await result.waitFor();
  // The schedule may have acted first (then: cooldown, a running job or pending droplets).
  await result.locator('.badge').getByText(/^(Scale up by \d+|No change)$/).waitFor();
  await result.locator('code').getByText(/^(above_threshold|cooldown|scale_job_running|droplets_pending)$/).waitFor();
  const reason = (await result.locator('p').nth(1).textContent()) ?? '';
  if (reason.trim().length < 10) throw new Error(`the reason shown: "${reason}"`);
  // The timeline (read every 5 s) has the scale-up, with its reason and job.
  const timeline = page.getByRole('list', { name: 'Decisions, newest first' });
  const up = timeline.locator('li', { hasText: 'above_threshold' }).first();
  await up.waitFor({ timeout: 15_000 });
  await up.locator('.badge').getByText(/^Scale up by \d+$/).waitFor();
  await up.getByText(/cpu/).first().waitFor();
  const job = await up.locator('.decision-job a').getAttribute('href');
  if (!job?.startsWith('/jobs/job_')) throw new Error(`the decision's job link: ${job}`);
  // The chart: droplets and the metric's average, with both thresholds.
  const chart = page.getByTestId('decision-chart');
  // (A decision made before reading the metric, e.g. in cooldown, has no average.)
  await chart.getByText(/^\d+ decisions?; now \d+ droplets?(, cpu average \d+(\.\d)?)?(, scale up above 80, down below 30)?\.$/).waitFor();
  // (Attached: a lone decision's line has no length to be visible.)
  await chart.locator('.recharts-line').first().waitFor({ state: 'attached' });
  await axe(page, 'autoscaling');
  await shot(page, 'autoscaling');
  // The scale job adds a droplet.
  await activeDroplets(base, cluster.id, 2, 30_000);
});

step('autoscaling: the Autoscaling page lists the cluster with its policy', async ({ page, base, scale }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Autoscaling' }).click();
  await page.waitForURL(`${base}/autoscaling`);
  await page.getByRole('heading', { name: 'Autoscaling', exact: true }).waitFor();
  const row = page.getByRole('table', { name: 'Clusters and their policies' }).locator('tr', { hasText: 'scale-web' });
  await row.getByText('Metrics').waitFor();
  await row.getByText('cpu above 80 up, below 30 down; 1–3 droplets').waitFor();
  await axe(page, 'autoscaling list');
  await row.getByRole('link', { name: 'scale-web' }).click();
  await page.waitForURL(`${base}/clusters/${scale.cluster.id}/autoscaling`);
  // Removed after a confirmation: nothing left to evaluate.
  await page.getByRole('button', { name: 'Remove policy' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove the policy?' });
  await axe(page, 'autoscaling (remove)');
  await dialog.getByRole('button', { name: 'Remove' }).click();
  await page.getByTestId('no-policy').waitFor();
  for (const deadline = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 200))) {
    const response = await fetch(`${base}/v1/clusters/${scale.cluster.id}/autoscaling`);
    if (response.status === 404) break;
    if (Date.now() > deadline) throw new Error(`GET after DELETE: ${response.status}`);
  }
});
