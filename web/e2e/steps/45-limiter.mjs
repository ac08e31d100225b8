// The limits page: the built-in rules with their buckets; a rule created through the form,
// its bucket emptied until a request is refused with 429 and its retry time, then the rule
// edited and deleted.
import { axe, shot, step } from '../lib.mjs';

step('the limits page lists the built-in rules with their buckets', async ({ page, base }) => {
  await page.goto(`${base}/limits`);
  await page.getByRole('heading', { name: 'Rate limits' }).waitFor();
  await page.locator('tr[data-rule="jobs_create"]').getByText(/of 3 tokens/).waitFor();
  await page.locator('tr[data-rule="diagnose"]').getByText('pick a cluster above').waitFor();
  await axe(page, 'limits');
});

step('a rule is created through the form and listed with its bucket', async (ctx) => {
  const { page } = ctx;
  // A bucket outlives a deleted rule of the same name: a name of its own for each run.
  const name = `e2e_updates_${Date.now().toString(36)}`;
  await page.getByRole('button', { name: 'Create rule' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill('Bad Name');
  await dialog.getByLabel('Rate (tokens per second)').fill('0');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.locator('#rule-name-help.error').waitFor();
  await dialog.locator('#rule-rate_per_sec-help.error').waitFor();
  await axe(page, 'rule form (errors)');
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Scope').selectOption('global');
  await dialog.getByLabel('Rate (tokens per second)').fill('0.01');
  await dialog.getByLabel('Capacity (burst)').fill('1');
  await dialog.getByRole('checkbox', { name: /clusters\.update/ }).check();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const row = page.locator(`tr[data-rule="${name}"]`);
  await row.getByText('1 every 100 s').waitFor();
  await row.getByText('1 of 1 tokens').waitFor();
  ctx.rule = name;
});

step('a request past the bucket is refused with 429, shown with its retry time', async ({ page, base, rule }) => {
  // Renaming a cluster that does not exist takes a token, then answers 404 (nothing recorded).
  const rename = () => fetch(`${base}/v1/clusters/cl_${'0'.repeat(32)}`, {
    method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nobody' }),
  });
  const first = await rename();
  if (first.status !== 404) throw new Error(`first rename: ${first.status}`);
  const second = await rename();
  if (second.status !== 429 || !second.headers.get('retry-after')) {
    throw new Error(`second rename: ${second.status}, Retry-After ${second.headers.get('retry-after')}`);
  }
  const row = page.locator(`tr[data-rule="${rule}"]`);
  await row.getByText(/^empty: requests get 429, retry in \d+ s$/).waitFor();
  await row.getByTestId('refused').getByText('1', { exact: true }).waitFor();
  await axe(page, 'limits (a bucket empty)');
  await shot(page, 'limits');
});

step('the rule is edited', async ({ page, rule }) => {
  const row = page.locator(`tr[data-rule="${rule}"]`);
  await row.getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Capacity (burst)').fill('5');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  // A raised capacity has room at once.
  await row.getByText(/^[1-5] of 5 tokens$/).waitFor();
});

step('the rule is deleted after a confirmation', async ({ page, rule }) => {
  const row = page.locator(`tr[data-rule="${rule}"]`);
  await row.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${rule}?` });
  await dialog.waitFor();
  await axe(page, 'delete rule dialog');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
});
