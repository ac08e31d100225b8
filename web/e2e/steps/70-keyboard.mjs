// The keyboard: the command palette (Ctrl+K and the sidebar's button) reaches pages, actions,
// clusters and droplets by name and ids pasted whole; list tables move a focus row with the
// keys, through live updates. Detail pages and the Dashboard's cards name their read model.
// Destroy all droplets previews what it touches, waits out a 429 and destroys every droplet,
// one request each, recorded in the log; deleting the cluster then touches it alone.
import { axe, shot, step } from '../lib.mjs';

const CLUSTER = 'kbd-fleet';
const NAMES = ['kbd-a', 'kbd-b', 'kbd-c'];

async function send(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    // A user of its own: its own buckets (jobs_create is per user).
    method, headers: { 'content-type': 'application/json', 'x-user-id': 'e2e-keyboard' }, body: body && JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

/** The `data-testid`, `data-job` or text of the focused element's row. */
const focusedRow = (page) => page.evaluate(() => {
  const row = document.activeElement?.closest('tr');
  return row?.dataset.testid ?? row?.dataset.job ?? null;
});

async function expectFocus(page, want) {
  await page.waitForFunction((w) => {
    const row = document.activeElement?.closest('tr');
    return (row?.dataset.testid ?? row?.dataset.job) === w;
  }, want, { timeout: 5000 }).catch(async () => {
    throw new Error(`focus on ${await focusedRow(page)}, not ${want}`);
  });
}

step('keyboard: a fleet of three droplets to work with', async (ctx) => {
  const { base } = ctx;
  ctx.kbd = await send(base, 'POST', '/v1/clusters', { name: CLUSTER, region: 'fra1' });
  ctx.kbdDroplets = [];
  for (const name of NAMES) {
    const made = await send(base, 'POST', '/v1/droplets', {
      cluster_id: ctx.kbd.id, name, region: 'fra1', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64',
    });
    ctx.kbdDroplets.push(made.droplet);
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    const list = await send(base, 'GET', `/v1/droplets?cluster_id=${ctx.kbd.id}&status=active`);
    if (list.items.length === NAMES.length) break;
    if (Date.now() > deadline) throw new Error(`${list.items.length} of ${NAMES.length} droplets active`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

step('keyboard: Ctrl+K opens the palette; pages, names and ids are reached from it', async (ctx) => {
  const { page, base, kbd, kbdDroplets } = ctx;
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Search or jump' });
  const field = palette.getByRole('combobox');
  await field.waitFor();
  if (!(await field.evaluate((el) => el === document.activeElement))) throw new Error('the field does not have the focus');
  await palette.getByRole('option', { name: /Providers & billing/ }).waitFor();
  await axe(page, 'command palette');
  // The focus is trapped: Tab and Shift+Tab stay in the field.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Shift+Tab');
  if (!(await field.evaluate((el) => el === document.activeElement))) throw new Error('the focus left the palette');
  // Pages by name, chosen with the arrows.
  await field.fill('li');
  await palette.getByRole('option', { name: /Limits/ }).waitFor();
  // Providers & billing (its "billing") comes first, then Limits.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/limits`);
  await palette.waitFor({ state: 'detached' });
  // A cluster by name, through the list's search, from the sidebar's button.
  await page.getByRole('button', { name: /^Search or jump…/ }).click();
  await field.fill('kbd-fl');
  await palette.getByRole('option', { name: new RegExp(`Cluster\\s*${CLUSTER}`) }).waitFor();
  await shot(page, 'command-palette');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/clusters/${kbd.id}`);
  await page.getByRole('heading', { name: CLUSTER }).waitFor();
  // A droplet by its id, pasted whole.
  await page.keyboard.press('Control+k');
  await field.fill(` ${kbdDroplets[1].id} `);
  await palette.getByRole('option', { name: `Go to Open droplet ${kbdDroplets[1].id}` }).waitFor();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/droplets/${kbdDroplets[1].id}`);
  await page.getByRole('heading', { name: 'kbd-b' }).waitFor();
  // Escape closes and the focus goes back where it was.
  const opener = page.getByRole('button', { name: /^Search or jump…/ });
  await opener.focus();
  await page.keyboard.press('Control+k');
  await field.waitFor();
  await page.keyboard.press('Escape');
  await palette.waitFor({ state: 'detached' });
  if (!(await opener.evaluate((el) => el === document.activeElement))) throw new Error('the focus was not given back');
  // An action opens the page's own form.
  await page.keyboard.press('Control+k');
  await field.fill('create drop');
  await page.keyboard.press('Enter');
  const form = page.getByRole('dialog', { name: 'Create a droplet' });
  await form.getByRole('heading', { name: 'Create a droplet' }).waitFor();
  await page.keyboard.press('Escape');
  await form.waitFor({ state: 'hidden' });
});

step('keyboard: list rows move with the keys, Enter opens one', async (ctx) => {
  const { page, base, kbd } = ctx;
  await page.goto(`${base}/droplets?cluster_id=${kbd.id}&sort_by=name&sort_dir=asc`);
  await page.getByTestId('droplet-row-kbd-c').waitFor();
  await page.locator('tbody tr[tabindex="0"]').focus();
  await expectFocus(page, 'droplet-row-kbd-a');
  await page.keyboard.press('ArrowDown');
  await expectFocus(page, 'droplet-row-kbd-b');
  await page.keyboard.press('j');
  await expectFocus(page, 'droplet-row-kbd-c');
  await page.keyboard.press('k');
  await expectFocus(page, 'droplet-row-kbd-b');
  await page.keyboard.press('Home');
  await expectFocus(page, 'droplet-row-kbd-a');
  await page.keyboard.press('End');
  await expectFocus(page, 'droplet-row-kbd-c');
  await axe(page, 'droplets (a focused row)');
  await shot(page, 'droplets-keyboard');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/droplets/${ctx.kbdDroplets[2].id}`);
});

step('keyboard: the focused row stays focused when live updates move it', async (ctx) => {
  const { page, base, kbd } = ctx;
  await page.goto(`${base}/jobs?cluster_id=${kbd.id}`);
  await page.getByText('Live updates: live').waitFor();
  const first = page.locator('tbody tr').first();
  await first.waitFor();
  const id = await first.getAttribute('data-job');
  await first.focus();
  await expectFocus(page, id);
  // A new job comes first (newest first): the row keeps the focus though it moved down.
  const made = await send(base, 'POST', '/v1/jobs', { cluster_id: kbd.id, type: 'diagnose' });
  await page.locator(`tr[data-job="${made.job.id}"]`).waitFor();
  await expectFocus(page, id);
  await page.keyboard.press('ArrowUp');
  await expectFocus(page, made.job.id);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/jobs/${made.job.id}`);
});

step('keyboard: detail pages and Dashboard cards name the read model they come from', async (ctx) => {
  const { page, base, kbd, kbdDroplets } = ctx;
  const fresh = (model) => new RegExp(`^From the ${model} read model, (up to date with the log \\(position \\d+\\)|\\d+ events? behind the log \\(at position \\d+\\))$`);
  // The job page opened by the step before.
  await page.getByTestId('freshness-jobs').getByText(fresh('jobs')).waitFor();
  await page.goto(`${base}/clusters/${kbd.id}`);
  await page.getByTestId('freshness-clusters').getByText(fresh('clusters')).waitFor();
  await page.goto(`${base}/droplets/${kbdDroplets[0].id}`);
  await page.getByTestId('freshness-droplets').getByText(fresh('droplets')).waitFor();
  await page.goto(`${base}/`);
  for (const model of ['clusters', 'droplets', 'jobs']) {
    await page.getByTestId(`freshness-${model}`).getByText(fresh(model)).waitFor();
  }
  await axe(page, 'dashboard (freshness)');
});

step('keyboard: destroy all droplets shows what it touches, waits out a 429, destroys each', async (ctx) => {
  const { page, base, kbd } = ctx;
  // One destroy a second at most: the second request of the run is refused with 429.
  const rule = `e2e_destroy_${Date.now().toString(36)}`;
  await send(base, 'PUT', `/v1/ratelimits/rules/${rule}`, {
    scope: 'global', rate_per_sec: 1, capacity: 1, endpoints: ['droplets.delete'],
  });
  try {
    await page.goto(`${base}/clusters/${kbd.id}`);
    await page.getByRole('button', { name: 'Destroy all droplets' }).click();
    const dialog = page.getByRole('dialog', { name: `Destroy every droplet of ${CLUSTER}?` });
    for (const name of NAMES) await dialog.getByTestId(`touch-${name}`).waitFor();
    const confirm = dialog.getByRole('button', { name: 'Destroy 3 droplets' });
    if (!(await confirm.isDisabled())) throw new Error('destroy all enabled before the name was typed');
    await dialog.getByLabel("Type the cluster's name to confirm").fill(CLUSTER);
    await axe(page, 'destroy all dialog');
    await shot(page, 'destroy-all');
    await confirm.click();
    await dialog.getByText(/Waiting \d+ s/).first().waitFor();
    await dialog.getByRole('status').getByText('Done: 3 of 3 handled · 3 requested').waitFor();
    await axe(page, 'destroy all dialog (done)');
    await dialog.getByRole('button', { name: 'Close' }).click();
  } finally {
    await send(base, 'DELETE', `/v1/ratelimits/rules/${rule}`);
  }
  // Each destroy is in the log, with the console's actor.
  // (The console sends no X-User-Id: its commands are the `anonymous` user's.)
  for (const droplet of ctx.kbdDroplets) {
    const events = await send(base, 'GET',
      `/v1/events?type=droplet.destroy_requested&aggregate_type=droplet&aggregate_id=${droplet.id}`);
    if (events.items.length !== 1 || events.items[0].metadata.actor !== 'anonymous') {
      throw new Error(`${droplet.name}: ${JSON.stringify(events.items.map((e) => e.metadata))}`);
    }
  }
  await page.getByTestId('droplet-count').getByText('0', { exact: true }).waitFor();
});

step('keyboard: deleting the emptied cluster says it touches the cluster alone', async ({ page, base, kbd }) => {
  await page.goto(`${base}/clusters/${kbd.id}`);
  await page.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${CLUSTER}?` });
  await dialog.getByText(/It touches the cluster alone/).waitFor();
  await axe(page, 'delete cluster dialog');
  await dialog.getByLabel("Type the cluster's name to confirm").fill(CLUSTER);
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${base}/clusters`);
});
