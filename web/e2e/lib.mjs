// What every step file uses: `step` declares a step (steps run in the order of their
// files' names, then of their declaration), `axe` scans the page as it is for
// accessibility, `shot` takes a screenshot.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(process.env.SCREENSHOTS_DIR ?? join(here, '../test-results/screenshots'));
const axeSource = readFileSync(join(here, '../node_modules/axe-core/axe.min.js'), 'utf8');

/** Every step declared so far, in order. */
export const steps = [];

/** Declares a step: `run(ctx)` gets `{ page, base }` and what earlier steps put into `ctx`. */
export function step(name, run) {
  steps.push({ name, run });
}

/** Fails on serious or critical accessibility violations of the page as it is. */
export async function axe(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    throw new Error(`${name}: accessibility violations:\n${bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`).join('\n')}`);
  }
}

export async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

