// The genie: metric samples posted through the API turn a cluster critical, live, wherever its
// status shows; Monitoring charts them with their thresholds and lists them; a rules
// diagnosis scores the cluster and a recommendation implemented starts a job followed live;
// an outdated recommendation, the LLM not configured and the diagnose rate limit are said.
import { axe, shot, step } from '../lib.mjs';

async function send(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Waits until `GET /v1/jobs/{id}` says `status` (read at the command's `position`). */
async function jobBecomes(base, id, status, position, within = 15_000) {
  const deadline = Date.now() + within;
  for (;;) {
    const job = await send(base, 'GET', `/v1/jobs/${id}?min_position=${position}`);
    if (job.status === status) return job;
    if (Date.now() > deadline) throw new Error(`${id} is ${job.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Samples of the last ten minutes, one a minute, for the cluster as a whole and its droplet. */
function samples(clusterId, dropletId, values) {
  const now = Date.now();
  const out = [];
  for (let minute = 9; minute >= 0; minute -= 1) {
    const timestamp = new Date(now - minute * 60_000 - 1000).toISOString();
    for (const [type, value] of Object.entries(values)) {
      out.push({ cluster_id: clusterId, droplet_id: dropletId, type, value: value - minute * 0.5, timestamp });
      out.push({ cluster_id: clusterId, type, value: value - 3 - minute * 0.5, timestamp });
    }
  }
  return { samples: out };
}

step('genie: samples above the thresholds turn the cluster critical, live', async (ctx) => {
  const { page, base } = ctx;
  const cluster = await send(base, 'POST', '/v1/clusters', { name: 'genie-hot', region: 'fra1' });
  const made = await send(base, 'POST', '/v1/droplets', {
    cluster_id: cluster.id, name: 'genie-web-1', region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
  });
  ctx.genie = { cluster, droplet: made.droplet };
  await jobBecomes(base, made.job.id, 'succeeded', made.position);
  await page.goto(`${base}/clusters/${cluster.id}`);
  await page.getByRole('heading', { name: 'genie-hot' }).waitFor();
  await page.getByText('Live updates: live').waitFor();
  const head = page.locator('.page-head');
  await head.getByText('healthy').waitFor();
  await page.getByTestId('health-panel').getByText('No issue: every check passes.').waitFor();
  // CPU over 80 (warning) and memory over 85 (critical); disk and network fine.
  const answer = await send(base, 'POST', '/v1/metrics',
    samples(cluster.id, made.droplet.id, { cpu: 95, memory: 93, disk: 55, network: 140 }));
  if (!(answer.accepted > 0)) throw new Error(`POST /v1/metrics accepted ${JSON.stringify(answer)}`);
  // Without a reload (the checks run every 15 s): the status event refreshes the page's
  // badge and its health.
  await head.getByText('critical').waitFor({ timeout: 40_000 });
  const panel = page.getByTestId('health-panel');
  await panel.locator('.badge', { hasText: 'critical' }).first().waitFor();
  await panel.getByRole('list', { name: 'Issues' }).getByText(/memory/i).first().waitFor();
  await axe(page, 'cluster detail (critical)');
  // The list shows it too.
  await page.goto(`${base}/clusters?status=critical`);
  await page.getByRole('link', { name: 'genie-hot' }).waitFor();
});

step('genie: Monitoring charts the samples with thresholds and lists them', async ({ page, base, genie }) => {
  await page.goto(`${base}/monitoring`);
  await page.getByRole('heading', { name: 'Monitoring' }).waitFor();
  await page.getByTestId('choose-cluster').waitFor();
  await axe(page, 'monitoring (no cluster)');
  await page.getByLabel('Cluster').selectOption(genie.cluster.id);
  await page.waitForURL(new RegExp(`cluster_id=${genie.cluster.id}`));
  const cpu = page.getByTestId('chart-cpu');
  await cpu.getByText(/^CPU: latest \d+(\.\d)? %, peak \d+(\.\d)? %, \d+ samples; warning above 80 %$/).waitFor();
  // The average as a line over its band, and the threshold as a reference line.
  await cpu.locator('.recharts-line path').first().waitFor();
  await cpu.locator('.recharts-area path').first().waitFor();
  await cpu.locator('.recharts-reference-line-line').waitFor({ state: 'attached' }); // flat: no height to be visible
  await page.getByTestId('chart-memory').getByText(/critical above 85 %$/).waitFor();
  await page.getByTestId('chart-network').getByText(/^Network: latest \d+(\.\d)? Mbps/).waitFor();
  await page.getByTestId('health-panel').locator('.badge', { hasText: 'critical' }).first().waitFor();
  const table = page.getByRole('table', { name: 'Samples, newest first' });
  await table.getByText('cluster-wide').first().waitFor();
  await table.getByRole('link', { name: 'genie-hot' }).first().waitFor();
  await axe(page, 'monitoring');
  await shot(page, 'monitoring');
  // Filters in the URL, and they survive a reload; the droplet alone.
  await page.getByLabel('Type').selectOption('memory');
  await page.waitForURL(/type=memory/);
  await page.getByLabel('Droplet').selectOption(genie.droplet.id);
  await page.waitForURL(new RegExp(`droplet_id=${genie.droplet.id}`));
  await page.reload();
  await table.locator('tbody tr').first().waitFor();
  const types = await table.locator('tbody tr td:nth-child(4)').allTextContents();
  if (types.length === 0 || types.some((t) => t !== 'Memory')) throw new Error(`types after the filter: ${types}`);
  if (await table.getByText('cluster-wide').count()) throw new Error('the droplet filter shows cluster-wide samples');
  // Paged by cursor: the cluster's 80 samples are more than a page of 25.
  await page.getByLabel('Droplet').selectOption('');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL((url) => !url.search.includes('type='));
  await page.getByRole('button', { name: 'Next' }).click();
  await page.waitForURL(/cursor=/);
  await page.getByText(/^Page 2/).waitFor();
  await table.locator('tbody tr').first().waitFor();
  await page.getByRole('button', { name: 'Previous' }).click();
  await page.getByText(/^Page 1/).waitFor();
});

step('genie: a rules diagnosis, a recommendation implemented and its job live', async (ctx) => {
  const { page, base, genie } = ctx;
  await page.goto(`${base}/clusters/${genie.cluster.id}`);
  await page.getByRole('navigation', { name: 'Cluster' }).getByRole('link', { name: 'Diagnosis' }).click();
  await page.waitForURL(/\/diagnosis$/);
  const latest = page.getByTestId('latest-diagnosis');
  await latest.getByText(/No diagnosis yet/).waitFor();
  await axe(page, 'diagnosis (none yet)');
  await page.getByRole('radio', { name: /Rules/ }).check();
  await page.getByRole('button', { name: 'Run diagnosis' }).click();
  const meter = latest.getByRole('meter', { name: 'Health score' });
  await meter.waitFor();
  const score = Number(await meter.getAttribute('aria-valuenow'));
  if (!(score >= 0 && score <= 100)) throw new Error(`health score ${score}`);
  await latest.getByText(/rules engine/).first().waitFor();
  // A critical cluster with one droplet: scale up now (the rules engine's first advice).
  const implement = latest.getByRole('button', { name: /^Implement: / }).first();
  await implement.waitFor();
  await axe(page, 'diagnosis');
  await shot(page, 'diagnosis');
  await implement.click();
  const job = latest.getByTestId('implemented-job').first();
  await job.getByRole('link').waitFor();
  await job.locator('[role="progressbar"]').waitFor();
  // Followed live until it ends.
  await job.locator('.badge', { hasText: /succeeded|failed/ }).waitFor({ timeout: 20_000 });
  ctx.genieJobHref = await job.getByRole('link').getAttribute('href');
  await page.getByRole('region', { name: 'Past diagnoses' }).getByText(/score \d+/).first().waitFor();
  await axe(page, 'diagnosis (implemented)');
  await page.goto(`${base}${ctx.genieJobHref}`);
  await page.getByRole('heading', { name: /job$/ }).waitFor();
  await page.locator(`a[href="/clusters/${genie.cluster.id}"]`).first().waitFor();
});

step('genie: an outdated recommendation shows the 409; the LLM not configured is said', async ({ page, base, genie }) => {
  await page.goto(`${base}/clusters/${genie.cluster.id}/diagnosis`);
  const latest = page.getByTestId('latest-diagnosis');
  await latest.getByRole('meter').waitFor();
  // A newer diagnosis makes the older one's recommendations outdated.
  await page.getByRole('button', { name: 'Run diagnosis' }).click();
  const past = page.getByRole('region', { name: 'Past diagnoses' });
  await past.locator('.past-list > li').nth(1).waitFor();
  const older = past.locator('.past-list > li').nth(1);
  await older.locator('summary').click();
  await older.getByRole('button', { name: /^Implement: / }).last().click();
  await older.getByRole('alert').getByText(/^This recommendation is outdated: /).waitFor();
  await axe(page, 'diagnosis (outdated)');
  // No LLM is configured for the e2e server: the 422 disables the choice with its reason.
  await page.getByRole('radio', { name: 'LLM' }).check();
  await page.getByRole('button', { name: 'Run diagnosis' }).click();
  await page.getByRole('alert').getByText(/LLM engine is not configured on this server/).waitFor();
  await page.locator('#llm-unavailable').waitFor();
  if (!(await page.getByRole('radio', { name: 'LLM' }).isDisabled())) throw new Error('the LLM choice stays enabled');
  await axe(page, 'diagnosis (LLM not configured)');
});

step('genie: past the diagnose rule, Run says when to try again', async ({ page, base, genie }) => {
  await page.goto(`${base}/clusters/${genie.cluster.id}/diagnosis`);
  await page.getByTestId('latest-diagnosis').getByRole('meter').waitFor();
  // Empty the cluster's bucket (5, then 1 every 5 s) from elsewhere.
  for (let i = 0; i < 8; i += 1) {
    const response = await fetch(`${base}/v1/clusters/${genie.cluster.id}/diagnose`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"engine":"rules"}',
    });
    if (response.status === 429) break;
  }
  await page.getByRole('button', { name: 'Run diagnosis' }).click();
  await page.getByRole('alert').getByText(/^Too many diagnoses of this cluster: .* Try again in \d+ s\.$/).waitFor();
  await page.getByText(/Rate limited: try again in \d+ s/).waitFor();
  if (!(await page.getByRole('button', { name: 'Run diagnosis' }).isDisabled())) throw new Error('Run stays enabled while limited');
  await axe(page, 'diagnosis (rate limited)');
});

step('genie: the Dashboard lists the unhealthy cluster, linked to its diagnosis', async ({ page, base, genie }) => {
  await page.goto(`${base}/`);
  const card = page.getByTestId('unhealthy-clusters');
  const link = card.getByRole('link', { name: 'genie-hot (critical): diagnose' });
  await link.waitFor();
  await axe(page, 'dashboard (unhealthy)');
  await link.click();
  await page.waitForURL(new RegExp(`/clusters/${genie.cluster.id}/diagnosis$`));
  await page.getByTestId('latest-diagnosis').getByRole('meter').waitFor();
  // Healthy samples bring it back, live on the Dashboard.
  await page.goto(`${base}/`);
  await card.getByRole('link', { name: 'genie-hot (critical): diagnose' }).waitFor();
  await send(base, 'POST', '/v1/metrics',
    samples(genie.cluster.id, genie.droplet.id, { cpu: 20, memory: 30, disk: 40, network: 50 }));
  await card.getByRole('link', { name: /^genie-hot / }).waitFor({ state: 'detached', timeout: 40_000 });
});
