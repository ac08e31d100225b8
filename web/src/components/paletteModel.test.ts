import { clusterOnPage, idTarget, matches, searchText, staticItems } from './paletteModel';

const HEX = '0193a7b2c3d4e5f60718293a4b5c6d7e';

test('an id typed or pasted whole goes to its page', () => {
  expect(idTarget(`cl_${HEX}`)).toEqual({ id: `cl_${HEX}`, what: 'cluster', to: `/clusters/cl_${HEX}` });
  expect(idTarget(`  dr_${HEX}\n`)?.to).toBe(`/droplets/dr_${HEX}`);
  expect(idTarget(`"job_${HEX}"`)?.to).toBe(`/jobs/job_${HEX}`);
  // Not an id: short, upper case, another prefix.
  expect(idTarget('dr_1234')).toBeNull();
  expect(idTarget(`DR_${HEX.toUpperCase()}`)).toBeNull();
  expect(idTarget(`pr_${HEX}`)).toBeNull();
});

test('every word typed must be found, in any case', () => {
  expect(matches('Providers & billing', 'BILL prov')).toBe(true);
  expect(matches('Providers & billing', 'prov x')).toBe(false);
  expect(matches('anything', '  ')).toBe(true);
});

test('with nothing typed every page and action is offered; an id offers its page alone', () => {
  const all = staticItems('', 'local');
  expect(all.filter((i) => i.kind === 'Page').map((i) => i.label)).toEqual([
    'Dashboard', 'Clusters', 'Droplets', 'Jobs', 'Monitoring', 'Providers & billing', 'Limits', 'Audit & Replay', 'System',
    'Autoscaling', 'Deployments',
  ]);
  expect(all.filter((i) => i.kind === 'Action').map((i) => i.label)).toEqual([
    'Create cluster', 'Create droplet', 'Show times in UTC',
  ]);
  expect(staticItems('zone', 'utc').map((i) => i.label)).toEqual(['Show times in your local zone']);
  expect(staticItems('drop', 'local').map((i) => i.label)).toEqual(['Droplets', 'Create droplet']);
  expect(staticItems('events', 'local').map((i) => i.to)).toEqual(['/audit']);
  expect(staticItems(`job_${HEX}`, 'local')).toEqual([
    { key: `go-job_${HEX}`, kind: 'Go to', label: `Open job job_${HEX}`, to: `/jobs/job_${HEX}` },
  ]);
});

test('names are searched, ids and blanks are not', () => {
  expect(searchText(' web ')).toBe('web');
  expect(searchText('  ')).toBeNull();
  expect(searchText(`cl_${HEX}`)).toBeNull();
});

test('a droplet made from a cluster page starts in that cluster', () => {
  expect(clusterOnPage(`/clusters/cl_${HEX}/droplets`)).toBe(`cl_${HEX}`);
  expect(clusterOnPage(`/clusters/cl_${HEX}`)).toBe(`cl_${HEX}`);
  expect(clusterOnPage('/droplets')).toBeUndefined();
});

test('the pages added last do not come between those a short query already picks', () => {
  // "li": Providers & billing, Limits, then the two added (the keyboard walk-through relies on it).
  expect(staticItems('li', 'local').filter((i) => i.kind === 'Page').map((i) => i.label))
    .toEqual(['Providers & billing', 'Limits', 'Autoscaling', 'Deployments']);
  expect(staticItems('canary', 'local').map((i) => i.label)).toEqual(['Deployments']);
});
