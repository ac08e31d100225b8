// Audit & Replay: a cluster and two droplets made through the API; the log filtered by the
// cluster, its stream scrubbed back to before the droplets and forward again, a diff of two
// points, a correlation id followed across aggregates (filtered by the server), deep links
// reloaded, live updates.
import { axe, shot, step } from '../lib.mjs';

/** Polls `check` (every 200 ms, up to 15 s) until it gives a truthy value, and returns it. */
async function until(what, check) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function post(base, path, body, headers = {}) {
  const answer = await fetch(`${base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  if (answer.status !== 201 && answer.status !== 202) throw new Error(`POST ${path}: ${answer.status} ${await answer.text()}`);
  return answer.json();
}

step('audit: a cluster with two droplets is made through the API', async (ctx) => {
  const { base } = ctx;
  const tag = Date.now().toString(36);
  const cluster = await post(base, '/v1/clusters', { name: `audit-${tag}`, region: 'nyc1' }, { 'X-User-Id': 'auditor' });
  ctx.audit = { clusterId: cluster.id, correlation: `audit-e2e-${tag}-a`, tag };
  const droplets = [];
  for (const [n, correlation] of [['a', ctx.audit.correlation], ['b', `audit-e2e-${tag}-b`]]) {
    const made = await post(base, '/v1/droplets', {
      cluster_id: cluster.id, name: `audit-${tag}-${n}`, region: 'nyc1', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
    }, { 'X-Request-Id': correlation });
    droplets.push(made.droplet.id);
  }
  for (const id of droplets) {
    await until(`droplet ${id} to be active`, async () => (await (await fetch(`${base}/v1/droplets/${id}`)).json()).status === 'active');
  }
  await until('the cluster to count two droplets', async () =>
    (await (await fetch(`${base}/v1/clusters/${cluster.id}`)).json()).droplet_count === 2);
  const stream = await (await fetch(`${base}/v1/streams/cluster/${cluster.id}`)).json();
  ctx.audit.positions = stream.items.map((e) => e.position);
  if (stream.items[0].type !== 'cluster.created' || stream.items.filter((e) => e.type === 'cluster.droplet_attached').length !== 2) {
    throw new Error(`unexpected stream: ${stream.items.map((e) => e.type).join(', ')}`);
  }
});

step('audit: the log is filtered by the cluster, in the URL', async ({ page, base, audit }) => {
  await page.goto(`${base}/audit`);
  await page.getByRole('heading', { name: 'Audit & Replay' }).waitFor();
  await page.locator('.audit-table tbody tr').first().waitFor();
  await axe(page, 'audit');
  await page.getByLabel('Aggregate id').fill(audit.clusterId);
  await page.waitForURL(new RegExp(`aggregate_id=${audit.clusterId}`));
  const rows = page.locator('.audit-table tbody tr');
  const ofCluster = rows.getByRole('link', { name: audit.clusterId, exact: true });
  await until('only the three rows of the cluster', async () => (await rows.count()) === 3 && (await ofCluster.count()) === 3);
  await rows.last().getByRole('cell', { name: 'cluster.created', exact: true }).waitFor();
  if (await page.getByRole('cell', { name: 'droplet.requested', exact: true }).count()) {
    throw new Error('the filter let another aggregate through');
  }
  await page.getByText('live: new events appear at the top').waitFor();
  await shot(page, 'audit');
});

step('audit: new events appear live at the head, filtered by actor on the server', async ({ page, base, audit }) => {
  const asked = page.waitForRequest((r) => r.url().includes('/v1/events?') && r.url().includes('actor=auditor'));
  await page.goto(`${base}/audit?actor=auditor`);
  await asked;
  await page.getByRole('cell', { name: 'cluster.created', exact: true }).first().waitFor();
  const before = await page.locator('.audit-table tbody tr').count();
  const made = await post(base, '/v1/clusters', { name: `audit-${audit.tag}-live`, region: 'fra1' }, { 'X-User-Id': 'auditor' });
  await page.locator('.audit-table tbody tr').first().getByRole('link', { name: made.id }).waitFor();
  await until('one row more', async () => (await page.locator('.audit-table tbody tr').count()) === before + 1);
  await page.getByLabel('Order').selectOption('asc');
  await page.waitForURL(/order=asc/);
  await page.locator('.audit-table tbody tr').last().getByRole('link', { name: made.id }).waitFor();
});

step('audit: the stream scrubs back to before the droplets and forward to the head', async ({ page, base, audit }) => {
  await page.goto(`${base}/audit?aggregate_id=${audit.clusterId}`);
  await page.locator('.audit-table tbody tr').first().getByRole('link', { name: audit.clusterId }).click();
  await page.waitForURL(new RegExp(`/audit/cluster/${audit.clusterId}$`));
  await page.getByRole('heading', { name: `Cluster ${audit.clusterId}` }).waitFor();
  const count = page.getByTestId('state-droplet_count');
  await count.getByText('2', { exact: true }).waitFor();
  const slider = page.getByRole('slider', { name: 'Point in the stream' });
  await slider.focus();
  await page.keyboard.press('Home');
  await page.waitForURL(new RegExp(`at=${audit.positions[0]}`));
  await count.getByText('0', { exact: true }).waitFor();
  await count.getByRole('link', { name: /cluster\.created/ }).waitFor();
  await page.getByTestId('replay-point').getByText('cluster.created').waitFor();
  await page.keyboard.press('ArrowRight');
  await count.getByText('1', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Head' }).click();
  await count.getByText('2', { exact: true }).waitFor();
  // Provenance: the count was last changed by the second droplet's attachment.
  const last = audit.positions[audit.positions.length - 1];
  await count.getByRole('link', { name: `#${last} cluster.droplet_attached` }).waitFor();
  await page.getByTestId('state-name').getByRole('link', { name: /cluster\.created/ }).waitFor();
});

step('audit: a time before the cluster shows it did not exist', async ({ page }) => {
  await page.getByLabel('As of a time').fill('2020-01-01T00:00');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.waitForURL(/time=2020-01-01/);
  await page.getByTestId('replay-absent').waitFor();
  await page.getByRole('button', { name: 'Head' }).click();
  await page.getByTestId('state-droplet_count').getByText('2', { exact: true }).waitFor();
});

step('audit: a diff of two points shows the droplets arrive', async ({ page, audit }) => {
  const first = audit.positions[0];
  const last = audit.positions[audit.positions.length - 1];
  await page.getByLabel('From', { exact: true }).selectOption(String(first));
  await page.getByLabel('To', { exact: true }).selectOption(String(last));
  await page.waitForURL(new RegExp(`from=${first}.*to=${last}`));
  const row = page.getByTestId('diff-droplet_count');
  await row.getByRole('cell', { name: '0', exact: true }).waitFor();
  await row.getByRole('cell', { name: '2', exact: true }).waitFor();
  await row.getByText('changed').waitFor();
  if (await page.getByTestId('diff-name').count()) throw new Error('an unchanged field is listed');
  await page.getByLabel('Show unchanged fields').check();
  await page.getByTestId('diff-name').waitFor();
  await axe(page, 'replay');
  await shot(page, 'replay');
});

step('audit: a deep link to a point and a diff survives a reload', async ({ page, base, audit }) => {
  const first = audit.positions[0];
  const last = audit.positions[audit.positions.length - 1];
  await page.goto(`${base}/audit/cluster/${audit.clusterId}?at=${first}&from=${audit.positions[1]}&to=${last}`);
  await page.getByTestId('state-droplet_count').getByText('0', { exact: true }).waitFor();
  await page.reload();
  await page.getByTestId('state-droplet_count').getByText('0', { exact: true }).waitFor();
  await page.getByTestId('diff-droplet_count').getByRole('cell', { name: '1', exact: true }).waitFor();
  if ((await page.getByLabel('From', { exact: true }).inputValue()) !== String(audit.positions[1])) throw new Error('the diff lost its points');
  await page.getByRole('button', { name: 'Switch to dark theme' }).or(page.getByRole('button', { name: 'Switch to light theme' })).click();
  await axe(page, 'replay (other theme)');
});

step('audit: a correlation id is followed across aggregates, filtered on the server', async ({ page, base, audit }) => {
  await page.goto(`${base}/audit/cluster/${audit.clusterId}`);
  // The log is read back from the newest event, filtered by the server: one read, not a
  // scan of the log in the browser.
  const reads = [];
  const onRequest = (r) => { if (r.url().includes('/v1/events?')) reads.push(new URL(r.url()).searchParams); };
  page.on('request', onRequest);
  await page.locator('.stream-table').getByRole('link', { name: audit.correlation }).click();
  await page.waitForURL(new RegExp(`/audit\\?correlation_id=${audit.correlation}$`));
  const rows = page.locator('.audit-table tbody tr');
  await page.getByRole('cell', { name: 'droplet.requested', exact: true }).waitFor();
  await page.getByRole('cell', { name: 'job.created', exact: true }).waitFor();
  await page.getByRole('cell', { name: 'cluster.droplet_attached', exact: true }).waitFor();
  await until('exactly the three events of that request', async () => (await rows.count()) === 3);
  page.off('request', onRequest);
  const filtered = reads.filter((q) => q.get('correlation_id') === audit.correlation);
  if (!filtered.length || reads.some((q) => q.get('correlation_id') !== audit.correlation || !q.has('before'))) {
    throw new Error(`the log was not read back filtered by the server: ${reads.map(String).join(' | ')}`);
  }
  const kinds = new Set(await rows.locator('td:nth-child(3) .muted').allTextContents());
  if (['droplet', 'job', 'cluster'].some((k) => !kinds.has(k))) throw new Error(`not across aggregates: ${[...kinds]}`);
  await page.getByText('3 events, positions').waitFor();
  await axe(page, 'audit (correlation)');
  await page.reload();
  await page.getByRole('cell', { name: 'droplet.requested', exact: true }).waitFor();
  if ((await page.getByLabel('Correlation id').inputValue()) !== audit.correlation) throw new Error('the filter field lost its value');
  // The other request of the same cluster: the filter follows it, and only it.
  const other = `audit-e2e-${audit.tag}-b`;
  await page.getByLabel('Correlation id').fill(other);
  await page.waitForURL(new RegExp(`correlation_id=${other}`));
  await until('the three events of the other request', async () =>
    (await rows.count()) === 3 && (await rows.getByRole('link', { name: other }).count()) === 3);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL(/\/audit$/);
});

step("audit: the cluster's history tab links to its replay", async ({ page, base, audit }) => {
  await page.goto(`${base}/clusters/${audit.clusterId}/history`);
  await page.getByRole('link', { name: 'Replay this history in Audit & Replay' }).click();
  await page.waitForURL(new RegExp(`/audit/cluster/${audit.clusterId}$`));
  await page.getByRole('slider', { name: 'Point in the stream' }).waitFor();
});

step('audit: an unknown stream says so', async ({ page, base }) => {
  await page.goto(`${base}/audit/cluster/cl_00000000000000000000000000000000`);
  await page.getByRole('heading', { name: 'No such stream' }).waitFor();
});
