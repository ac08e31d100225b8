// Jobs: a droplet's provision job shows up on the jobs page and succeeds live; its detail
// shows its attempts and events and survives a reload; a job started from the dialog; the
// filters in the URL; a job waiting to retry (its provider in an outage) is cancelled from its
// page, and a cancel that comes too late shows the API's refusal.
import { axe, shot, step } from '../lib.mjs';

async function post(base, path, body) {
  const answer = await fetch(`${base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!answer.ok) throw new Error(`POST ${path}: ${answer.status} ${await answer.text()}`);
  return answer.json();
}

async function faults(base, provider, body) {
  const answer = await fetch(`${base}/v1/admin/providers/${provider}/faults`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!answer.ok) throw new Error(`PUT faults of ${provider}: ${answer.status}`);
}

/** The theme the next page loads in (screenshots are taken in the light one). */
async function useTheme(page, base, theme) {
  if (!page.url().startsWith(base)) await page.goto(`${base}/jobs`);
  await page.evaluate((t) => localStorage.setItem('cg-theme', t), theme);
}

const droplet = (clusterId, name, region) => ({
  cluster_id: clusterId, name, region, size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
});

step('jobs: a droplet\u2019s provision job appears and succeeds live', async (ctx) => {
  const { page, base } = ctx;
  const cluster = await post(base, '/v1/clusters', { name: 'jobs-fra', region: 'fra1' });
  ctx.jobsCluster = cluster;
  await useTheme(page, base, 'light');
  await page.goto(`${base}/jobs`);
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  await page.getByText('Live updates: live').waitFor();
  const made = await post(base, '/v1/droplets', droplet(cluster.id, 'jobs-web-1', 'fra1'));
  ctx.provision = made.job;
  ctx.provisionDroplet = made.droplet;
  const row = page.locator(`tr[data-job="${made.job.id}"]`);
  await row.waitFor();
  await row.getByText('running').waitFor();
  await row.getByText('succeeded').waitFor();
  await row.locator('[role="progressbar"][aria-valuenow="100"]').waitFor();
  await row.getByRole('link', { name: 'jobs-fra' }).waitFor();
  if (await row.getByText('1 of 5').count() !== 1) throw new Error('the attempt column does not read 1 of 5');
  await axe(page, 'jobs');
  await shot(page, 'jobs');
});

step('jobs: the detail shows attempts and events, and a deep link reloads into it', async (ctx) => {
  const { page, base, provision, provisionDroplet, jobsCluster } = ctx;
  await page.goto(`${base}/jobs`);
  await page.locator(`tr[data-job="${provision.id}"]`).getByRole('link', { name: /provision/ }).click();
  await page.waitForURL(`**/jobs/${provision.id}`);
  await page.getByRole('heading', { name: 'provision job' }).waitFor();
  await page.getByTestId('job-phase').getByText('succeeded — attempt 1 of 5').waitFor();
  await page.getByRole('table', { name: 'Attempts' }).getByText('succeeded').waitFor();
  const timeline = page.getByRole('list', { name: 'Events of this job' });
  await timeline.getByText('job.succeeded').waitFor();
  await timeline.getByText('job.started').waitFor();
  await timeline.locator('summary').first().click();
  await timeline.getByText('"max_attempts": 5').waitFor();
  await page.locator(`a[href="/clusters/${jobsCluster.id}"]`).waitFor();
  await page.locator(`a[href="/droplets/${provisionDroplet.id}"]`).waitFor();
  if (await page.getByRole('button', { name: 'Cancel job' }).count()) throw new Error('a finished job offers a cancel');
  await page.reload();
  await page.getByRole('heading', { name: 'provision job' }).waitFor();
  await timeline.getByText('job.succeeded').waitFor();
  await axe(page, 'job detail');
  await shot(page, 'job-detail');
  // The cluster's Jobs tab links here.
  await page.goto(`${base}/clusters/${jobsCluster.id}/jobs`);
  await page.getByRole('link', { name: provision.id }).click();
  await page.waitForURL(`**/jobs/${provision.id}`);
});

step('jobs: a job started from the dialog, field errors at their fields', async (ctx) => {
  const { page, base, jobsCluster } = ctx;
  await page.goto(`${base}/jobs`);
  await page.getByRole('button', { name: 'Create job' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Type').selectOption('scale_up');
  await dialog.getByLabel('Count').fill('99');
  await dialog.getByRole('button', { name: 'Start job' }).click();
  await dialog.locator('#job-cluster-help.error').waitFor();
  await dialog.locator('#job-count-help.error').waitFor();
  await axe(page, 'create job dialog');
  await dialog.getByLabel('Type').selectOption('diagnose');
  await dialog.getByLabel('Cluster').selectOption(jobsCluster.id);
  await dialog.getByRole('button', { name: 'Start job' }).click();
  await page.getByRole('heading', { name: 'diagnose job' }).waitFor();
  ctx.diagnoseUrl = page.url();
  await page.getByTestId('job-phase').getByText(/^succeeded/).waitFor();
  await page.getByRole('heading', { name: 'Result' }).waitFor();
});

step('jobs: filters and sort live in the URL and survive a reload', async ({ page, base, provision }) => {
  await page.goto(`${base}/jobs`);
  await page.getByLabel('Type').selectOption('diagnose');
  await page.waitForURL(/type=diagnose/);
  await page.locator(`tr[data-job="${provision.id}"]`).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: /diagnose/ }).first().waitFor();
  await page.getByLabel('Status').selectOption('succeeded');
  await page.waitForURL(/status=succeeded/);
  await page.getByRole('button', { name: /^Created/ }).click();
  await page.waitForURL(/sort_dir=asc/);
  await page.reload();
  await page.getByRole('link', { name: /diagnose/ }).first().waitFor();
  if (await page.getByLabel('Type').inputValue() !== 'diagnose') throw new Error('the type filter was lost on reload');
  if (await page.locator(`tr[data-job="${provision.id}"]`).count()) throw new Error('the filter was lost on reload');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.locator(`tr[data-job="${provision.id}"]`).waitFor();
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await axe(page, 'jobs (dark)');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
});

step('jobs: a job waiting to retry says so and is cancelled from its page', async (ctx) => {
  const { page, base } = ctx;
  // sfo1 is offered by simcloud alone: while it is out, a provision there retries.
  const cluster = await post(base, '/v1/clusters', { name: 'jobs-sfo', region: 'sfo1' });
  ctx.sfoCluster = cluster;
  await faults(base, 'simcloud', { outage: true });
  try {
    const made = await post(base, '/v1/droplets', droplet(cluster.id, 'jobs-retry-1', 'sfo1'));
    await page.goto(`${base}/jobs/${made.job.id}`);
    await page.getByTestId('job-phase').getByText(/^retrying — attempt \d of 5, next try at/).waitFor();
    await page.getByRole('table', { name: 'Attempts' }).getByText('provider simcloud is unavailable (outage)').first().waitFor();
    await axe(page, 'job detail (retrying)');
    await shot(page, 'job-retrying');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await axe(page, 'job detail (retrying, dark)');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    await page.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (optional)').fill('the provider is down');
    await axe(page, 'cancel dialog');
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('job-phase').getByText(/^cancelled/).waitFor();
    await page.getByRole('list', { name: 'Events of this job' }).getByText('cancellation requested: the provider is down').waitFor();
    if (await page.getByRole('button', { name: 'Cancel job' }).count()) throw new Error('a cancelled job still offers a cancel');
  } finally {
    await faults(base, 'simcloud', {});
  }
});

step('jobs: a cancel that comes after the end shows the refusal', async ({ page, base, sfoCluster }) => {
  await faults(base, 'simcloud', { outage: true });
  try {
    const made = await post(base, '/v1/droplets', droplet(sfoCluster.id, 'jobs-retry-2', 'sfo1'));
    await page.goto(`${base}/jobs/${made.job.id}`);
    await page.getByTestId('job-phase').getByText(/^retrying/).waitFor();
    await page.getByRole('button', { name: 'Cancel job' }).click();
    // Meanwhile someone else cancels it.
    await post(base, `/v1/jobs/${made.job.id}/cancel`, { reason: 'elsewhere' });
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await dialog.getByRole('alert').getByText('Refused: job already finished (cancelled)').waitFor();
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await page.getByTestId('job-phase').getByText(/^cancelled/).waitFor();
  } finally {
    await faults(base, 'simcloud', {});
  }
});

step('jobs: an unknown job says so', async ({ page, base }) => {
  await page.goto(`${base}/jobs/job_0000000000000000000000000000dead`);
  await page.getByRole('heading', { name: 'No such job' }).waitFor();
});
