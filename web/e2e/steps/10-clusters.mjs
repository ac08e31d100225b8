// The first run: an empty log, then clusters created, searched, renamed and deleted; the
// dashboard and system pages; the not-found page.
import { axe, shot, step } from '../lib.mjs';

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
