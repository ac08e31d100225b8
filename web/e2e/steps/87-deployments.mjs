// Deployments: a rolling deployment started from the Deployments page (cluster picker) with the
// default health gate (CPU at most 80 % over 30 s, waited after each batch) succeeds, every
// droplet at the new version, live on its page; a canary started from the cluster's tab with a
// 5 s gate and without auto-promote stops at its target, a second start is refused (409)
// meanwhile, and Promote takes it to every droplet.
import { axe, shot, step } from '../lib.mjs';

const NAMES = ['deploy-web-1', 'deploy-web-2', 'deploy-web-3'];

async function send(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    // A user of its own: its own buckets (jobs_create is per user).
    method, headers: { 'content-type': 'application/json', 'x-user-id': 'e2e-deployments' }, body: body && JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

/**
 * Healthy samples for every droplet, now and every 2 s until stopped, so each health gate (over
 * its window, whatever its length) sees the droplets it checks well below its maximum.
 */
function feedHealthy(base, clusterId, droplets) {
  const post = () => {
    const timestamp = new Date().toISOString();
    const samples = [];
    for (const d of droplets) {
      for (const [type, value] of Object.entries({ cpu: 20, memory: 30, disk: 40, network: 50 })) {
        samples.push({ cluster_id: clusterId, droplet_id: d.id, type, value, timestamp });
      }
    }
    return send(base, 'POST', '/v1/metrics', { samples }).catch(() => {});
  };
  void post();
  const timer = setInterval(post, 2000);
  return () => clearInterval(timer);
}

/** The deployment's page: waits for its status badge to read `status`. */
async function statusBecomes(page, status, within = 60_000) {
  await page.locator('.page-head .badge', { hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: within });
}

step('deployments: three droplets to roll out to', async (ctx) => {
  const { base } = ctx;
  const cluster = await send(base, 'POST', '/v1/clusters', { name: 'deploy-web', region: 'fra1' });
  const droplets = [];
  for (const name of NAMES) {
    const made = await send(base, 'POST', '/v1/droplets', {
      cluster_id: cluster.id, name, region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
    });
    droplets.push(made.droplet);
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const list = await send(base, 'GET', `/v1/droplets?cluster_id=${cluster.id}&status=active`);
    if (list.items.length === NAMES.length) break;
    if (Date.now() > deadline) throw new Error(`${list.items.length} of ${NAMES.length} droplets active`);
    await new Promise((r) => setTimeout(r, 200));
  }
  ctx.deploy = { cluster, droplets };
});

step('deployments: a rolling deployment with the default gate reaches every droplet', async ({ page, base, deploy }) => {
  const stop = feedHealthy(base, deploy.cluster.id, deploy.droplets);
  try {
    await page.goto(`${base}/deployments`);
    await page.getByRole('heading', { name: 'Deployments', exact: true }).waitFor();
    await page.getByTestId('choose-cluster').waitFor();
    await axe(page, 'deployments (no cluster)');
    await page.getByLabel('Cluster', { exact: true }).selectOption(deploy.cluster.id);
    await page.waitForURL(new RegExp(`cluster_id=${deploy.cluster.id}`));
    await page.getByText('No deployment yet.').waitFor();
    // Checked first: a version is required.
    await page.getByRole('button', { name: 'Start deployment' }).click();
    await page.locator('#deploy-version-help').getByText('required, e.g. 1.4.2').waitFor();
    await axe(page, 'deployments (invalid)');
    await page.getByRole('radio', { name: 'Rolling' }).check();
    await page.getByLabel('Version').fill('1.1.0');
    // Two batches (2 then 1), so two gates of the default 30 s.
    await page.getByLabel('Batch size').fill('2');
    await page.getByRole('button', { name: 'Start deployment' }).click();
    await page.waitForURL(/\/deployments\/dep_/);
    await page.getByRole('heading', { name: 'Deployment of 1.1.0' }).waitFor();
    await page.getByRole('table', { name: 'Steps' }).locator('tbody tr').first().waitFor();
    // Live: read again while it runs, until it succeeds.
    await page.getByTestId('deploy-progress').getByText(/^[12] of 3 at 1\.1\.0$/).waitFor({ timeout: 60_000 });
    await statusBecomes(page, 'succeeded', 150_000);
    await page.getByTestId('deploy-progress').getByText('3 of 3 at 1.1.0').waitFor();
    for (const name of NAMES) await page.getByTestId(`deploy-droplet-${name}`).getByText('at 1.1.0').waitFor();
    const steps = await page.getByRole('table', { name: 'Steps' }).locator('tbody tr').evaluateAll(
      (rows) => rows.map((r) => r.getAttribute('data-status')));
    if (steps.length === 0 || steps.some((s) => s !== 'completed')) throw new Error(`steps: ${steps}`);
    await page.getByRole('list', { name: 'Gate results' }).locator('.badge', { hasText: 'passed' }).first().waitFor();
    await page.getByRole('list', { name: 'Log lines' }).locator('li').first().waitFor();
    if (!(await page.getByRole('button', { name: 'Rollback', exact: true }).isDisabled())) throw new Error('Rollback enabled after success');
    if (await page.getByRole('button', { name: 'Promote', exact: true }).count()) throw new Error('Promote offered to a rolling deployment');
    await axe(page, 'deployment (succeeded)');
    await shot(page, 'deployment-detail');
    // The droplets agree, in the API and on their pages.
    const droplet = await send(base, 'GET', `/v1/droplets/${deploy.droplets[0].id}`);
    if (droplet.app_version !== '1.1.0') throw new Error(`app_version ${droplet.app_version}`);
    await page.getByTestId(`deploy-droplet-${NAMES[0]}`).getByRole('link', { name: NAMES[0] }).click();
    await page.waitForURL(`${base}/droplets/${deploy.droplets[0].id}`);
    await page.getByTestId('droplet-app-version').getByText('1.1.0').waitFor();
  } finally {
    stop();
  }
});

step('deployments: a canary without auto-promote waits at its target until promoted', async ({ page, base, deploy }) => {
  const stop = feedHealthy(base, deploy.cluster.id, deploy.droplets);
  try {
    await page.goto(`${base}/clusters/${deploy.cluster.id}`);
    await page.getByRole('navigation', { name: 'Cluster' }).getByRole('link', { name: 'Deployments' }).click();
    await page.waitForURL(/\/deployments$/);
    await page.getByRole('table', { name: 'Deployments of this cluster' }).locator('tbody tr').first().waitFor();
    await page.getByRole('radio', { name: 'Canary' }).check();
    await page.getByLabel('Version').fill('1.2.0');
    await page.getByLabel('Canary share (%)').fill('34');
    await page.getByLabel(/Promote automatically/).uncheck();
    await page.getByLabel(/Set the gate/).check();
    await page.getByLabel('Gate metric').selectOption('cpu');
    await page.getByLabel('Gate maximum').fill('80');
    await page.getByLabel('Gate window (s)').fill('5');
    await page.getByRole('button', { name: 'Start deployment' }).click();
    await page.waitForURL(/\/deployments\/dep_/);
    const canaryUrl = page.url();
    await page.getByRole('heading', { name: 'Deployment of 1.2.0' }).waitFor();
    const promote = page.getByRole('button', { name: 'Promote', exact: true });
    await page.locator('.page-head button:not([disabled])', { hasText: /^Promote$/ }).waitFor({ timeout: 90_000 });
    await page.getByTestId('deploy-phase').locator('.badge', { hasText: 'waiting for promotion' }).waitFor();
    const progress = (await page.getByTestId('deploy-progress').textContent()) ?? '';
    const [done, total] = (/^(\d+) of (\d+)/.exec(progress) ?? []).slice(1).map(Number);
    if (!(done >= 1 && done < total)) throw new Error(`canary progress: ${progress}`);
    if (!(await page.getByRole('button', { name: 'Rollback', exact: true }).isEnabled())) throw new Error('Rollback disabled while it runs');
    await axe(page, 'deployment (waiting for promotion)');
    await shot(page, 'deployment-canary');
    // Meanwhile another deployment of the cluster is refused.
    await page.goto(`${base}/deployments?cluster_id=${deploy.cluster.id}`);
    const list = page.getByRole('table', { name: 'Deployments of this cluster' });
    await list.locator('tbody tr').nth(1).waitFor();
    await list.locator('tbody tr').first().locator('.badge', { hasText: 'waiting for promotion' }).waitFor();
    await list.locator('tbody tr').nth(1).locator('.badge', { hasText: 'succeeded' }).waitFor();
    await axe(page, 'deployments');
    await shot(page, 'deployments');
    await page.getByLabel('Version').fill('1.3.0');
    await page.getByRole('button', { name: 'Start deployment' }).click();
    await page.getByRole('alert').getByText(/^Refused: .* Wait for it to finish, or roll it back\.$/).waitFor();
    // Promote: the rest follows, to every droplet.
    await page.goto(canaryUrl);
    await promote.click();
    await statusBecomes(page, 'succeeded', 90_000);
    await page.getByTestId('deploy-progress').getByText('3 of 3 at 1.2.0').waitFor();
    if (!(await promote.isDisabled())) throw new Error('Promote enabled after success');
    await axe(page, 'deployment (promoted)');
  } finally {
    stop();
  }
});
