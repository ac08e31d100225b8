// The providers page: the built-in providers and their prices; a provider broken from the
// chaos panel makes a provision job fail and retry, and healing it lets the job succeed; a
// cluster's costs by provider; a provider registered through the form.
import { axe, shot, step } from '../lib.mjs';

async function send(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

step('the providers page shows the built-in providers with their prices', async ({ page, base }) => {
  await page.goto(`${base}/providers`);
  await page.getByRole('heading', { name: 'Providers & billing' }).waitFor();
  for (const name of ['Nimbus', 'SimCloud', 'Stratus']) {
    await page.getByRole('article', { name }).waitFor();
  }
  // The catalog's list price times each provider's multiplier.
  await page.getByTestId('price-nimbus-s-1vcpu-1gb').getByText('$6.90/mo').waitFor();
  await page.getByTestId('price-simcloud-s-1vcpu-1gb').getByText('$6.00/mo').waitFor();
  await page.getByTestId('price-stratus-s-1vcpu-1gb').getByText('$5.40/mo').waitFor();
  await page.getByTestId('price-stratus-c-2').getByText('not offered').waitFor();
  await axe(page, 'providers');
});

step('a provider broken from the chaos panel makes its provision job retry', async (ctx) => {
  const { page, base } = ctx;
  await page.goto(`${base}/providers`);
  const chaos = page.getByRole('region', { name: 'Faults of Stratus' });
  await chaos.getByRole('button', { name: 'Fail every call' }).click();
  await chaos.getByText('Broken: 100% of calls fail').waitFor();
  await page.getByRole('article', { name: 'Stratus' }).getByText('broken', { exact: true }).waitFor();
  // Earlier steps may have left droplets at Stratus: count from what is there now.
  const providers = await send(base, 'GET', '/v1/providers');
  const stratus = (providers.items ?? providers).find((p) => p.name === 'stratus');
  const liveBefore = stratus.usage.live_droplets;
  const cluster = await send(base, 'POST', '/v1/clusters', { name: 'chaos-demo', region: 'fra1', provider: 'stratus' });
  const made = await send(base, 'POST', '/v1/droplets', {
    cluster_id: cluster.id, name: 'chaos-web-1', region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
    provider: 'stratus',
  });
  ctx.chaos = { cluster: cluster.id, droplet: made.droplet.id, job: made.job.id, liveBefore };
  const row = page.locator(`tr[data-job="${made.job.id}"]`);
  await row.getByText('stratus', { exact: true }).waitFor();
  // An attempt failed and a later one is scheduled (or already running).
  await row.getByTestId('job-phase').getByText(/^(retry scheduled|retrying)$/).waitFor();
  await row.getByText('provider stratus: provision failed transiently').waitFor();
  await axe(page, 'providers (a provider broken)');
  await shot(page, 'providers');
});

step('healing the provider lets the job succeed', async ({ page, chaos }) => {
  const card = page.getByRole('region', { name: 'Faults of Stratus' });
  await card.getByRole('button', { name: 'Heal' }).click();
  await card.getByText('no faults injected').waitFor();
  const row = page.locator(`tr[data-job="${chaos.job}"]`);
  await row.getByTestId('job-phase').getByText('succeeded').waitFor();
  const live = new RegExp(`^${chaos.liveBefore + 1}(\\D|$)`);
  await page.getByTestId('usage-stratus').getByText(live).waitFor();
});

step("a cluster's costs are shown by provider, and follow its droplets", async ({ page, base, chaos }) => {
  await page.goto(`${base}/providers`);
  await page.getByLabel('Cluster', { exact: true }).selectOption(chaos.cluster);
  await page.waitForURL(/cluster=cl_/);
  await page.getByTestId('cost-stratus').getByText('$5.40').waitFor();
  await page.getByTestId('billing-monthly').getByText('$5.40').waitFor();
  // The fleet's total above, as the API has it, the droplet in its Stratus share (earlier
  // steps may have left droplets there too).
  const fleet = await send(base, 'GET', '/v1/billing');
  if (!(fleet.by_provider.stratus?.monthly_cost >= 5.4)) throw new Error(JSON.stringify(fleet));
  const usd = (amount) => `$${amount.toFixed(2)}`;
  await page.getByRole('heading', { name: 'Fleet cost' }).waitFor();
  await page.getByTestId('fleet-cost-stratus').getByText(usd(fleet.by_provider.stratus.monthly_cost)).waitFor();
  await page.getByTestId('fleet-monthly').getByText(usd(fleet.monthly_cost)).waitFor();
  await axe(page, 'providers (billing)');
  await page.getByRole('heading', { name: 'Cost by cluster' }).evaluate((h) => h.scrollIntoView({ block: 'start' }));
  await shot(page, 'providers-billing');
  // Destroyed droplets cost nothing: the page follows the log (and this leaves no cluster behind).
  await send(base, 'DELETE', `/v1/droplets/${chaos.droplet}`);
  await page.getByText('This cluster has no billed droplets').waitFor();
  await send(base, 'DELETE', `/v1/clusters/${chaos.cluster}`);
});

step('a provider is registered through the form, its errors shown at the fields', async ({ page, base }) => {
  await page.goto(`${base}/providers`);
  await page.getByRole('button', { name: 'Register provider' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Lab');
  await dialog.getByRole('button', { name: 'Register' }).click();
  await dialog.locator('#provider-name-help.error').waitFor();
  await dialog.getByText('pick at least one region').waitFor();
  await axe(page, 'register provider dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('lab');
  await dialog.getByLabel('Display name').fill('Lab Cloud');
  await dialog.getByRole('checkbox', { name: 'sgp1' }).check();
  // Dearer than every built-in provider, so it never wins another test's placement.
  await dialog.getByLabel('Price multiplier').fill('3');
  await dialog.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('article', { name: 'Lab Cloud' }).waitFor();
  await page.getByTestId('price-lab-s-1vcpu-1gb').getByText('$18.00/mo').waitFor();
});
