// The Dashboard over a fleet: droplets and jobs counted by status, live, each count a link to
// its filtered list; the fleet's cost, live; recent events link to their droplet and job pages.
import { axe, shot, step } from '../lib.mjs';

async function send(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** The number a Dashboard count shows, once it shows one. */
async function shown(page, testId) {
  const text = await page.getByTestId(testId).getByText(/\d/).textContent();
  return Number(text.replace('≈', ''));
}

step('the dashboard counts droplets and jobs by status, live', async ({ page, base }) => {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Droplets by status' }).waitFor();
  const active = await shown(page, 'droplets-active');
  const cluster = await send(base, 'POST', '/v1/clusters', { name: 'dashboard-fleet', region: 'nyc1' });
  const made = await send(base, 'POST', '/v1/droplets', {
    cluster_id: cluster.id, name: 'dash-web-1', region: 'nyc1', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
  });
  // Without a reload: the droplet turns active and the count follows.
  await page.waitForFunction(
    ([id, want]) => Number(document.querySelector(`[data-testid="${id}"]`)?.textContent?.replace('≈', '')) >= want,
    ['droplets-active', active + 1],
  );
  await page.getByRole('link', { name: made.droplet.id }).first().waitFor();
  await axe(page, 'dashboard (a fleet)');
  await shot(page, 'dashboard');
  await page.getByRole('link', { name: made.job.id }).first().click();
  await page.waitForURL(new RegExp(`/jobs/${made.job.id}$`));
  await page.goto(`${base}/`);
  await page.getByTestId('droplets-active').getByText(/\d/).waitFor();
  await page.getByTestId('droplets-active').locator('xpath=..').getByRole('link').click();
  await page.waitForURL(/\/droplets\?status=active/);
});

/** The dollars a Dashboard cost shows. */
async function dollars(page, testId) {
  const text = await page.getByTestId(testId).getByText(/\$\d/).textContent();
  return Number(text.replace(/[$,]/g, ''));
}

/** Waits until the Dashboard's monthly fleet cost is `want` dollars (to the cent). */
async function monthlyBecomes(page, want) {
  await page.waitForFunction(
    (target) => {
      const text = document.querySelector('[data-testid="fleet-monthly"]')?.textContent ?? '';
      return /\$\d/.test(text) && Math.abs(Number(text.replace(/[$,]/g, '')) - target) < 0.011;
    },
    want,
  );
  return dollars(page, 'fleet-monthly');
}

step('the dashboard shows what the fleet costs, live', async ({ page, base }) => {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Fleet cost' }).waitFor();
  const before = await dollars(page, 'fleet-monthly');
  const hourlyBefore = await dollars(page, 'fleet-hourly');
  const cluster = await send(base, 'POST', '/v1/clusters', { name: 'cost-fleet', region: 'fra1' });
  const made = [];
  for (const name of ['cost-web-1', 'cost-web-2']) {
    made.push(await send(base, 'POST', '/v1/droplets', {
      cluster_id: cluster.id, name, region: 'fra1', size: 's-2vcpu-4gb', image: 'ubuntu-22-04-x64', provider: 'nimbus',
    }));
  }
  // Two droplets at Nimbus: 2 x $24 x 1.15 a month more, without a reload.
  const after = await monthlyBecomes(page, before + 55.2);
  const hourlyAfter = await dollars(page, 'fleet-hourly');
  if (!(hourlyAfter > hourlyBefore)) throw new Error(`hourly ${hourlyBefore} -> ${hourlyAfter}`);
  await page.getByTestId('fleet-cost-nimbus').getByText(/\/h$/).waitFor();
  await axe(page, 'dashboard (fleet cost)');
  // A destroyed droplet costs nothing: the total comes down by one of them (once provisioned:
  // one request at a time).
  const job = made[0].job.id;
  const deadline = Date.now() + 10_000;
  while ((await send(base, 'GET', `/v1/jobs/${job}`)).status !== 'succeeded') {
    if (Date.now() > deadline) throw new Error(`${job} did not succeed`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await send(base, 'DELETE', `/v1/droplets/${made[0].droplet.id}`);
  await monthlyBecomes(page, after - 27.6);
});

step('lists say how fresh their read model is', async ({ page, base }) => {
  for (const [path, projection] of [['/clusters', 'clusters'], ['/droplets', 'droplets'], ['/jobs', 'jobs']]) {
    await page.goto(`${base}${path}`);
    await page.getByTestId(`freshness-${projection}`).getByText(/^Up to date with the log \(position \d+\)$/).waitFor();
  }
  // A new event moves the position shown, without a reload.
  const before = await page.getByTestId('freshness-jobs').textContent();
  await send(base, 'POST', '/v1/clusters', { name: 'freshness-probe', region: 'nyc1' });
  await page.waitForFunction(
    (text) => document.querySelector('[data-testid="freshness-jobs"]')?.textContent !== text,
    before,
  );
  await axe(page, 'jobs (freshness)');
});

step('times switch to UTC everywhere, and stay so after a reload', async ({ page, base }) => {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Show times in UTC' }).click();
  await page.locator('time').first().getByText(/ UTC$/).waitFor();
  await page.reload();
  await page.locator('time').first().getByText(/ UTC$/).waitFor();
  await page.goto(`${base}/jobs`);
  await page.locator('time').first().getByText(/ UTC$/).waitFor();
  await axe(page, 'jobs (times in UTC)');
  await page.getByRole('button', { name: 'Show times in your local zone' }).click();
  await page.getByRole('button', { name: 'Show times in UTC' }).waitFor();
});
