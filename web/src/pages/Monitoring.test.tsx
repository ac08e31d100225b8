import { fireEvent, screen, within } from '@testing-library/react';
import { api } from '../api/client';
import { METRIC_TYPES, type ClusterHealth } from '../api/genie';
import { answer, seriesOf } from '../test/genie';
import { renderAt } from '../test/render';
import { Monitoring } from './Monitoring';

afterEach(() => vi.restoreAllMocks());

const CLUSTERS = ['clusters', { page_size: 500, sort_by: 'name', sort_dir: 'asc' }];
const clusters = { items: [{ id: 'cl_1', name: 'web-prod' }, { id: 'cl_2', name: 'batch' }], page_size: 500, total: 2 };
const health: ClusterHealth = {
  cluster_id: 'cl_1', status: 'critical', checked_at: '2026-01-01T13:00:00Z', window_seconds: 300,
  issues: [
    { kind: 'metric', severity: 'critical', metric_type: 'memory', value: 91.5, threshold: 85, droplet_id: null, message: 'memory above 85 %' },
    { kind: 'droplet', severity: 'warning', metric_type: null, value: null, threshold: null, droplet_id: 'dr_7', message: 'droplet failed' },
  ],
};
const samples = {
  items: [
    { cluster_id: 'cl_1', droplet_id: 'dr_7', type: 'cpu', value: 93.25, unit: 'percent', timestamp: '2026-01-01T12:59:00Z' },
    { cluster_id: 'cl_1', droplet_id: null, type: 'network', value: 120, unit: 'mbps', timestamp: '2026-01-01T12:58:00Z' },
  ],
  page: 1, page_size: 25, total: 60, next_cursor: 'cur_2',
};

const seriesKey = (type: string) => ['metrics', 'series', { type, cluster_id: 'cl_1', seconds: 3600, step: 15 }];
const historyKey = (query: object) => ['metrics', 'history', { page_size: 25, ...query }];

function renderPage(url: string, data: [unknown[], unknown][] = []) {
  // Health is read as soon as a cluster is chosen.
  vi.spyOn(api, 'GET').mockImplementation((async (path: string) =>
    path === '/v1/clusters/{id}/health' ? answer(200, health) : answer(404, { detail: 'not here' })) as never);
  renderAt(url, '/monitoring', <Monitoring />, [[CLUSTERS, clusters], ...data]);
}

const location = () => screen.getByTestId('location').textContent;

test('without a cluster it asks for one, and lists every sample', () => {
  renderPage('/monitoring', [[historyKey({ page: 1 }), samples]]);
  expect(screen.getByTestId('choose-cluster')).toHaveTextContent('Choose a cluster to see its charts and health.');
  expect(screen.getByLabelText('Droplet')).toBeDisabled();
  const rows = within(screen.getByRole('table', { name: 'Samples, newest first' })).getAllByRole('row').slice(1);
  expect(within(rows[0]!).getByRole('link', { name: 'web-prod' })).toHaveAttribute('href', '/clusters/cl_1');
  expect(within(rows[0]!).getByRole('link', { name: 'dr_7' })).toHaveAttribute('href', '/droplets/dr_7');
  expect(rows[0]).toHaveTextContent('93.3 %');
  expect(rows[1]).toHaveTextContent('cluster-wide');
  expect(rows[1]).toHaveTextContent('120 Mbps');
  fireEvent.change(screen.getByLabelText('Cluster'), { target: { value: 'cl_2' } });
  expect(location()).toBe('/monitoring?cluster_id=cl_2');
});

test("a cluster's charts, each named by what it shows, and its health", async () => {
  renderPage('/monitoring?cluster_id=cl_1', [
    [seriesKey('cpu'), seriesOf('cpu', [[60, 50, 70], [85, 80, 97]])],
    ...(['memory', 'disk', 'network'] as const).map((t): [unknown[], unknown] => [seriesKey(t), seriesOf(t, [])]),
    [historyKey({ cluster_id: 'cl_1', page: 1 }), samples],
  ]);
  expect(screen.getByTestId('chart-cpu')).toHaveTextContent('CPU: latest 85 %, peak 97 %, 8 samples; warning above 80 %');
  expect(screen.getByTestId('chart-memory')).toHaveTextContent('Memory: no samples in this range; critical above 85 %');
  expect(screen.getByTestId('chart-disk')).toHaveTextContent('critical above 90 %');
  expect(screen.getByTestId('chart-network')).toHaveTextContent('Network: no samples in this range');
  for (const type of METRIC_TYPES) expect(screen.getByRole('region', { name: new RegExp(`^${type}`, 'i') })).toBeInTheDocument();
  expect(screen.queryByTestId('no-samples')).toBeNull();
  const panel = screen.getByTestId('health-panel');
  expect(await within(panel).findByText('memory above 85 %')).toBeInTheDocument();
  expect(within(panel).getAllByText('critical')[0]).toHaveClass('badge', 'danger');
  expect(within(panel).getByRole('link', { name: 'dr_7' })).toHaveAttribute('href', '/droplets/dr_7');
  expect(within(panel).getByText(/over the last 5 minutes/)).toBeInTheDocument();
  expect(screen.getByRole('link', { name: 'Diagnose this cluster' })).toHaveAttribute('href', '/clusters/cl_1/diagnosis');
});

test('no samples at all explains how to send some', () => {
  renderPage('/monitoring?cluster_id=cl_1', [
    ...METRIC_TYPES.map((t): [unknown[], unknown] => [seriesKey(t), seriesOf(t, [])]),
    [historyKey({ cluster_id: 'cl_1', page: 1 }), { ...samples, items: [], total: 0, next_cursor: null }],
  ]);
  const note = screen.getByTestId('no-samples');
  expect(note).toHaveTextContent('No samples for this cluster in the last hour.');
  expect(note).toHaveTextContent('POST /v1/metrics');
  expect(note).toHaveTextContent('clustergenie serve --sim-load');
  expect(screen.getByText('No sample matches these filters.')).toBeInTheDocument();
});

test('filters, range and pages live in the URL; Next follows the cursor', () => {
  renderPage('/monitoring?cluster_id=cl_1&range=6h', [[historyKey({ cluster_id: 'cl_1', page: 1 }), samples]]);
  expect(screen.getByText(/one point every 2 min/)).toBeInTheDocument();
  fireEvent.click(screen.getByRole('button', { name: 'Next' }));
  expect(location()).toBe('/monitoring?cluster_id=cl_1&range=6h&page=2&cursor=cur_2');
  fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'memory' } });
  expect(location()).toBe('/monitoring?cluster_id=cl_1&range=6h&type=memory');
  fireEvent.change(screen.getByLabelText('Range'), { target: { value: '7d' } });
  expect(location()).toBe('/monitoring?cluster_id=cl_1&range=7d&type=memory');
  fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
  expect(location()).toBe('/monitoring?cluster_id=cl_1&range=7d');
});

test('a cursor page goes back to the first', () => {
  renderPage('/monitoring?page=2&cursor=cur_2', [[historyKey({ cursor: 'cur_2' }), { ...samples, page: null, next_cursor: null }]]);
  expect(screen.getByText(/Page 2/)).toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();
  fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
  expect(location()).toBe('/monitoring');
});

test('back from a page reached by cursor uses the cursor it was reached with', () => {
  renderPage('/monitoring?page=2&cursor=cur_2', [
    [historyKey({ cursor: 'cur_2' }), { ...samples, page: null, next_cursor: 'cur_3' }],
    [historyKey({ cursor: 'cur_3' }), { ...samples, page: null, next_cursor: null }],
  ]);
  fireEvent.click(screen.getByRole('button', { name: 'Next' }));
  expect(location()).toBe('/monitoring?page=3&cursor=cur_3');
  fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
  expect(location()).toBe('/monitoring?page=2&cursor=cur_2');
});

test('the health window reads as words', async () => {
  const { windowText } = await import('./HealthPanel');
  expect([60, 300, 3600, 90, 7200].map(windowText)).toEqual(['minute', '5 minutes', 'hour', '90 seconds', '2 hours']);
});
