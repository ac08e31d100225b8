// Who the console acts as: a name set in the sidebar (checked as the API checks X-User-Id,
// remembered across a reload) goes with the console's commands, so the log records it as the
// events' actor (read back from GET /v1/events) and Audit & Replay shows it; acting
// anonymously again is recorded as `anonymous`.
import { axe, shot, step } from '../lib.mjs';

const NAME = 'ops-alice';

/** The events of one aggregate, from the real server's log. */
async function eventsOf(base, id) {
  const answer = await fetch(`${base}/v1/events?aggregate_id=${id}`);
  if (!answer.ok) throw new Error(`GET /v1/events?aggregate_id=${id}: ${answer.status}`);
  return (await answer.json()).items;
}

/** The actor of the aggregate's event of `type`, failing when there is none. */
async function actorOf(base, id, type) {
  const event = (await eventsOf(base, id)).find((e) => e.type === type);
  if (!event) throw new Error(`no ${type} event for ${id}`);
  return event.metadata.actor;
}

const sidebar = (page) => page.locator('.identity');

step('actor: the console acts as anonymous until a name is set, checked as the API checks it', async ({ page, base }) => {
  await page.goto(`${base}/clusters`);
  await page.getByRole('heading', { name: 'Clusters' }).waitFor();
  await sidebar(page).getByText('Acting as anonymous').waitFor();
  await sidebar(page).getByText('No name set: your actions are recorded as anonymous.').waitFor();
  await page.getByRole('button', { name: 'Set your name' }).click();
  const dialog = page.getByRole('dialog', { name: 'Who you are' });
  const field = dialog.getByLabel('Your name');
  await field.fill('x'.repeat(201));
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.locator('#user-id-help.error').getByText('At most 200 characters (this is 201).').waitFor();
  if ((await field.getAttribute('aria-invalid')) !== 'true') throw new Error('the field is not marked invalid');
  await field.fill('zoë');
  await dialog.locator('#user-id-help.error').getByText(/Only visible ASCII/).waitFor();
  await axe(page, 'identity dialog (error)');
  await shot(page, 'identity-dialog');
  await field.fill(` ${NAME} `);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await sidebar(page).getByText(`Acting as ${NAME}`).waitFor();
  if (await sidebar(page).getByText(/No name set/).count()) throw new Error('the anonymous hint stayed');
  const stored = await page.evaluate(() => localStorage.getItem('cg-user-id'));
  if (stored !== NAME) throw new Error(`stored ${JSON.stringify(stored)}`);
  await page.reload();
  await sidebar(page).getByText(`Acting as ${NAME}`).waitFor();
  await axe(page, 'clusters (acting as a name)');
});

step("actor: the console's commands record the name as their actor", async (ctx) => {
  const { page, base } = ctx;
  const name = `actor-${Date.now().toString(36)}`;
  await page.goto(`${base}/clusters`);
  await page.getByRole('button', { name: 'Create cluster' }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Region', { exact: true }).selectOption('lon1');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name }).waitFor();
  const id = page.url().match(/\/clusters\/(cl_[0-9a-f]+)$/)?.[1];
  if (!id) throw new Error(`detail URL ${page.url()}`);
  ctx.actor = { id, name };
  const created = await actorOf(base, id, 'cluster.created');
  if (created !== NAME) throw new Error(`cluster.created recorded actor ${created}, not ${NAME}`);
  // A second command (a PATCH with If-Match) carries it too.
  await page.getByRole('button', { name: 'Rename or move' }).click();
  await page.getByLabel('Name', { exact: true }).fill(`${name}-b`);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: `${name}-b` }).waitFor();
  const renamed = await actorOf(base, id, 'cluster.renamed');
  if (renamed !== NAME) throw new Error(`cluster.renamed recorded actor ${renamed}, not ${NAME}`);
});

step('actor: Audit & Replay shows the name and filters by it', async ({ page, base, actor }) => {
  await page.goto(`${base}/audit?aggregate_id=${actor.id}`);
  const rows = page.locator('.audit-table tbody tr');
  await rows.getByRole('cell', { name: 'cluster.renamed', exact: true }).waitFor();
  for (const type of ['cluster.created', 'cluster.renamed']) {
    const row = rows.filter({ has: page.getByRole('cell', { name: type, exact: true }) });
    await row.getByRole('link', { name: NAME, exact: true }).waitFor();
  }
  if (await rows.getByRole('link', { name: 'anonymous', exact: true }).count()) throw new Error('an event of the console is anonymous');
  await axe(page, 'audit (acting as a name)');
  await shot(page, 'audit-actor');
  await rows.first().getByRole('link', { name: NAME, exact: true }).click();
  await page.waitForURL(new RegExp(`actor=${NAME}`));
  await rows.first().getByRole('link', { name: NAME, exact: true }).waitFor();
});

step('actor: acting anonymously again is recorded as anonymous', async ({ page, base, actor }) => {
  await page.goto(`${base}/clusters/${actor.id}`);
  await page.getByRole('heading', { name: `${actor.name}-b` }).waitFor();
  await page.getByRole('button', { name: 'Change name' }).click();
  const dialog = page.getByRole('dialog', { name: 'Who you are' });
  if ((await dialog.getByLabel('Your name').inputValue()) !== NAME) throw new Error('the dialog does not show the name');
  await axe(page, 'identity dialog');
  await dialog.getByRole('button', { name: 'Act anonymously' }).click();
  await sidebar(page).getByText('Acting as anonymous').waitFor();
  await page.getByRole('button', { name: 'Rename or move' }).click();
  await page.getByLabel('Name', { exact: true }).fill(`${actor.name}-c`);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: `${actor.name}-c` }).waitFor();
  const renames = (await eventsOf(base, actor.id)).filter((e) => e.type === 'cluster.renamed');
  const actors = renames.map((e) => e.metadata.actor);
  if (actors.join() !== `${NAME},anonymous`) throw new Error(`the renames' actors: ${actors.join(', ')}`);
});
