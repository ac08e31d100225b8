// Droplets: two made through the create dialog turn active live, one is resized and powered
// off, a refused command shows the server's reason, the other is destroyed after its name is
// typed; a droplet's page reloads from its address and lists its own jobs, which the jobs
// list filters by droplet; the cluster's droplets link to theirs.
import { axe, shot, step } from '../lib.mjs';

const CLUSTER = 'fleet-e2e';

/** The status badge beside the droplet's name. */
const headStatus = (page, status) => page.locator('.page-head .badge', { hasText: new RegExp(`^${status}$`) });

/** Fails if the page was loaded again since `markNoReload`. */
async function markNoReload(page) {
  await page.evaluate(() => { window.__dropletsSamePage = true; });
}
async function assertNoReload(page) {
  if (!(await page.evaluate(() => window.__dropletsSamePage === true))) throw new Error('the page was reloaded');
}

step('droplets: the list starts empty for a new cluster', async (ctx) => {
  const { page, base } = ctx;
  const made = await fetch(`${base}/v1/clusters`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: CLUSTER, region: 'fra1' }),
  });
  if (made.status !== 201) throw new Error(`POST /v1/clusters: ${made.status}`);
  ctx.fleet = await made.json();
  await page.goto(`${base}/droplets?cluster_id=${ctx.fleet.id}`);
  await page.getByRole('heading', { name: 'Droplets' }).waitFor();
  await page.getByText('No droplet matches these filters.').waitFor();
  await page.getByText('Live updates: live').waitFor();
  await axe(page, 'droplets (empty)');
  await markNoReload(page);
});

step('droplets: the create dialog checks its fields and prices sizes per provider', async (ctx) => {
  const { page } = ctx;
  await page.getByRole('button', { name: 'Create droplet' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Bad Name');
  // The cluster comes from the list's filter, its region with it.
  if ((await dialog.getByLabel('Region').inputValue()) !== 'fra1') throw new Error('the cluster region was not taken');
  await dialog.getByRole('button', { name: 'Create droplet' }).click();
  await dialog.locator('#droplet-name-error').waitFor();
  await dialog.getByText('from $5.40/mo · $0.0075/h').waitFor();
  await axe(page, 'create droplet dialog');
  await dialog.getByLabel('Provider').selectOption('stratus');
  await dialog.getByText('$5.40/mo · $0.0075/h', { exact: true }).waitFor();
  await dialog.getByLabel('Name', { exact: true }).fill('node-a');
  await dialog.getByRole('radio', { name: /s-1vcpu-1gb/ }).check();
  await shot(page, 'droplet-create');
  await dialog.getByRole('button', { name: 'Create droplet' }).click();
  await page.waitForURL(/\/droplets\/dr_[0-9a-f]+$/);
  await page.getByRole('heading', { name: 'node-a' }).waitFor();
  // Read your writes: the droplet is there at once, with the job that provisions it.
  await page.getByRole('link', { name: /^job_/ }).first().waitFor();
  ctx.nodeA = page.url();
  await assertNoReload(page);
});

step('droplets: a second droplet is made from the unfiltered list', async (ctx) => {
  const { page } = ctx;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Droplets' }).click();
  await page.getByRole('button', { name: 'Create droplet' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Cluster').selectOption({ label: `${CLUSTER} (fra1)` });
  await dialog.getByLabel('Name', { exact: true }).fill('node-b');
  await dialog.getByLabel('Provider').selectOption('simcloud');
  await dialog.getByRole('radio', { name: /s-1vcpu-2gb/ }).check();
  await dialog.getByText(/^Estimated \$12\.00\/mo · \$0\.0167\/h/).waitFor();
  await dialog.getByRole('button', { name: 'Create droplet' }).click();
  await page.getByRole('heading', { name: 'node-b' }).waitFor();
  ctx.nodeB = page.url();
  await assertNoReload(page);
});

step('droplets: both turn active in the list without a reload', async (ctx) => {
  const { page } = ctx;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Droplets' }).click();
  await page.getByLabel('Cluster').selectOption({ label: CLUSTER });
  await page.waitForURL(new RegExp(`cluster_id=${ctx.fleet.id}`));
  for (const name of ['node-a', 'node-b']) {
    await page.getByTestId(`droplet-row-${name}`).locator('.badge', { hasText: /^active$/ }).waitFor();
  }
  await page.getByTestId('droplet-row-node-a').getByText('stratus').waitFor();
  await page.getByTestId('droplet-row-node-b').getByRole('link', { name: CLUSTER }).waitFor();
  await page.getByText('of 2').waitFor();
  await assertNoReload(page);
  await page.getByRole('button', { name: /^Name/ }).click();
  await page.waitForURL(/sort_by=name&sort_dir=asc/);
  await axe(page, 'droplets');
  await shot(page, 'droplets');
});

step('droplets: a droplet is resized and powered off from its page', async (ctx) => {
  const { page } = ctx;
  await page.getByRole('link', { name: 'node-a' }).click();
  await headStatus(page, 'active').waitFor();
  await page.getByText('Last job').waitFor();
  await axe(page, 'droplet detail');
  await shot(page, 'droplet-detail');
  await page.getByRole('button', { name: 'Resize' }).click();
  const resize = page.getByRole('dialog');
  await resize.getByRole('radio', { name: /s-2vcpu-4gb/ }).check();
  await resize.getByText('after the resize $21.60/mo · $0.03/h').waitFor();
  await axe(page, 'resize dialog');
  await resize.getByRole('button', { name: 'Resize' }).click();
  await page.getByTestId('droplet-size').filter({ hasText: 's-2vcpu-4gb' }).waitFor();
  await headStatus(page, 'active').waitFor();
  await page.getByRole('button', { name: 'Power off' }).and(page.locator(':enabled')).waitFor();
  await page.getByRole('button', { name: 'Power off' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Power off' }).click();
  await headStatus(page, 'off').waitFor();
  await page.getByRole('button', { name: 'Power on' }).and(page.locator(':enabled')).waitFor();
});

step('droplets: a command refused by the server shows its reason', async (ctx) => {
  const { page, base } = ctx;
  await page.getByRole('button', { name: 'Resize' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('radio', { name: /s-1vcpu-2gb/ }).check();
  // Someone else powers it on meanwhile: what the dialog was opened on is no longer so.
  const id = ctx.nodeA.split('/').pop();
  const on = await fetch(`${base}/v1/droplets/${id}/power`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'on' }),
  });
  if (on.status !== 202) throw new Error(`POST power on: ${on.status}`);
  await dialog.getByRole('button', { name: 'Resize' }).click();
  await dialog.getByRole('alert').filter({ hasText: /^Refused: / }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await headStatus(page, 'active').waitFor();
});

step('droplets: a droplet migrates to another provider', async ({ page }) => {
  await page.getByRole('button', { name: 'Migrate' }).and(page.locator(':enabled')).waitFor();
  await page.getByRole('button', { name: 'Migrate' }).click();
  const dialog = page.getByRole('dialog');
  // Stratus runs it; Nimbus and SimCloud also offer s-2vcpu-4gb in fra1.
  await dialog.getByLabel('Target provider').selectOption('simcloud');
  await dialog.getByText('Now $21.60/mo · $0.03/h; at SimCloud $24.00/mo · $0.0333/h').waitFor();
  await axe(page, 'migrate dialog');
  await dialog.getByRole('button', { name: 'Migrate' }).click();
  await page.getByText('Job in progress').waitFor();
  await page.getByText('Last job').waitFor();
  await page.locator('dl.props dd', { hasText: /^SimCloud$/ }).waitFor();
  await headStatus(page, 'active').waitFor();
});

step('droplets: destroying asks for the name and says what it touches', async (ctx) => {
  const { page } = ctx;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Droplets' }).click();
  await page.getByRole('link', { name: 'node-b' }).click();
  await headStatus(page, 'active').waitFor();
  await page.getByRole('button', { name: 'Destroy' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(`of the cluster ${CLUSTER}`).waitFor();
  const confirm = dialog.getByRole('button', { name: 'Destroy' });
  if (!(await confirm.isDisabled())) throw new Error('destroy enabled before the name was typed');
  await dialog.getByLabel("Type the droplet's name to confirm").fill('node-');
  if (!(await confirm.isDisabled())) throw new Error('destroy enabled for a wrong name');
  await axe(page, 'destroy dialog');
  await shot(page, 'droplet-destroy');
  await dialog.getByLabel("Type the droplet's name to confirm").fill('node-b');
  await confirm.click();
  await headStatus(page, 'destroyed').waitFor();
  await page.getByText('The droplet is destroyed: nothing more can be done with it.').waitFor();
  await assertNoReload(page);
});

step("droplets: a droplet's address reloads into its page; the cluster links to it", async (ctx) => {
  const { page, base } = ctx;
  await page.goto(ctx.nodeA);
  await page.reload();
  await page.getByRole('heading', { name: 'node-a' }).waitFor();
  await page.getByTestId('droplet-size').filter({ hasText: 's-2vcpu-4gb' }).waitFor();
  await page.getByText('droplet.powered_on').waitFor();
  // Its jobs are its own (GET /v1/jobs?droplet_id=): its five, none of node-b's.
  const jobs = page.getByRole('table', { name: 'Jobs of this droplet' });
  for (const type of ['provision', 'resize', 'power off', 'power on', 'migrate']) {
    await jobs.getByRole('cell', { name: type, exact: true }).waitFor();
  }
  const rows = await jobs.locator('tbody tr').count();
  if (rows !== 5) throw new Error(`node-a lists ${rows} jobs, not 5`);
  await page.getByRole('link', { name: 'Filter them on the Jobs page' }).click();
  await page.waitForURL(/\/jobs\?droplet_id=dr_[0-9a-f]{32}$/);
  await page.getByRole('group', { name: 'Droplet filter' }).waitFor();
  await page.locator('tr[data-job]').nth(4).waitFor();
  if ((await page.locator('tr[data-job]').count()) !== 5) throw new Error('the jobs list is not filtered by the droplet');
  await axe(page, 'jobs of a droplet');
  await page.goto(ctx.nodeA);
  await page.getByRole('heading', { name: 'node-a' }).waitFor();
  const toggle = page.getByRole('button', { name: /Switch to (dark|light) theme/ });
  await toggle.click();
  await axe(page, 'droplet detail (other theme)');
  await toggle.click();
  await page.goto(`${base}/clusters/${ctx.fleet.id}/droplets`);
  await page.getByRole('link', { name: 'node-a' }).click();
  await page.waitForURL(ctx.nodeA);
  await page.getByRole('heading', { name: 'node-a' }).waitFor();
  await page.goto(`${base}/droplets/dr_00000000000000000000000000000000`);
  await page.getByRole('heading', { name: 'No such droplet' }).waitFor();
});
