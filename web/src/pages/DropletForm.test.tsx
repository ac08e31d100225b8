import { fireEvent, render, screen, within } from '@testing-library/react';
import type { Cluster } from '../api/client';
import { ProblemError } from '../api/client';
import { CATALOG } from '../test/catalog';
import { PROVIDERS } from '../test/providers';
import { changeDraft, DropletForm, initialDraft, validateDraft, type DropletDraft } from './DropletForm';

const cluster = (id: string, name: string, region: string, provider: string | null = null): Cluster =>
  ({ id, name, region, provider, status: 'healthy', droplet_count: 0, version: 1 });
const CLUSTERS = [cluster('cl_a', 'web', 'fra1'), cluster('cl_b', 'edge', 'sgp1', 'nimbus')];

const draft = (change: Partial<DropletDraft> = {}): DropletDraft => ({
  cluster_id: 'cl_a', name: 'web-1', region: 'fra1', provider: '', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64', ...change,
});

test('a complete draft has no mistakes', () => {
  expect(validateDraft(draft(), PROVIDERS, CATALOG)).toEqual({});
  expect(validateDraft(draft({ provider: 'stratus' }), PROVIDERS, CATALOG)).toEqual({});
});

test('each mistake is named by the field the API would name', () => {
  expect(validateDraft(draft({ cluster_id: '', name: '  ' }), PROVIDERS, CATALOG)).toEqual({
    cluster_id: 'Choose a cluster.', name: 'A name is required.',
  });
  expect(validateDraft(draft({ name: 'Web' }), PROVIDERS, CATALOG).name).toMatch(/^Lowercase letters/);
  expect(validateDraft(draft({ name: 'web-' }), PROVIDERS, CATALOG).name).toMatch(/^Lowercase letters/);
  expect(validateDraft(draft({ name: 'a'.repeat(64) }), PROVIDERS, CATALOG).name).toBe('At most 63 characters.');
  expect(validateDraft(draft({ name: 'a'.repeat(63) }), PROVIDERS, CATALOG)).toEqual({});
  expect(validateDraft(draft({ region: 'mars1' }), PROVIDERS, CATALOG).region).toBe('No provider offers this region.');
  expect(validateDraft(draft({ region: 'sgp1', provider: 'stratus' }), PROVIDERS, CATALOG).provider).toBe('Stratus does not offer sgp1.');
  expect(validateDraft(draft({ provider: 'stratus', size: 'c-2' }), PROVIDERS, CATALOG).size).toBe('c-2 is not offered by Stratus in fra1.');
  expect(validateDraft(draft({ size: '' }), PROVIDERS, CATALOG).size).toBe('Choose a size.');
  expect(validateDraft(draft({ image: 'windows' }), PROVIDERS, CATALOG).image).toBe('Choose an image.');
});

test('choosing a cluster brings its region and provider; a size not offered gives way', () => {
  const start = initialDraft('', PROVIDERS, CATALOG, CLUSTERS);
  expect(start.cluster_id).toBe('');
  const edge = changeDraft(start, { cluster_id: 'cl_b' }, PROVIDERS, CATALOG, CLUSTERS);
  expect(edge).toMatchObject({ region: 'sgp1', provider: 'nimbus', size: 's-1vcpu-1gb' });
  // Stratus is not in sgp1: the provider is dropped rather than kept wrong.
  expect(changeDraft(draft({ region: 'fra1', provider: 'stratus' }), { region: 'sgp1' }, PROVIDERS, CATALOG, CLUSTERS).provider).toBe('');
  // Stratus has no c-2: the first size it offers is taken instead.
  expect(changeDraft(draft({ size: 'c-2' }), { provider: 'stratus' }, PROVIDERS, CATALOG, CLUSTERS).size).toBe('s-1vcpu-1gb');
  expect(changeDraft(draft({ size: 's-2vcpu-4gb' }), { provider: 'stratus' }, PROVIDERS, CATALOG, CLUSTERS).size).toBe('s-2vcpu-4gb');
});

function renderForm(props: Partial<Parameters<typeof DropletForm>[0]> = {}) {
  const onSubmit = vi.fn();
  render(<DropletForm clusters={CLUSTERS} providers={PROVIDERS} catalog={CATALOG} busy={false} error={null} onSubmit={onSubmit}
    onCancel={() => {}} {...props} />);
  return onSubmit;
}

test('nothing is sent while a field is wrong; the mistakes are shown at their fields', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Bad Name' } });
  fireEvent.click(screen.getByRole('button', { name: 'Create droplet' }));
  expect(onSubmit).not.toHaveBeenCalled();
  expect(screen.getByText('Choose a cluster.')).toHaveClass('error');
  expect(screen.getByLabelText('Cluster')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByLabelText('Name')).toHaveAccessibleDescription(/^Lowercase letters/);
});

test('sizes carry their price at the chosen provider, and the body is what was chosen', () => {
  const onSubmit = renderForm({ initialClusterId: 'cl_a' });
  const sizes = screen.getByRole('group', { name: 'Size' });
  // No provider named: the cheapest in fra1 (Stratus, x0.9), c-2 from SimCloud.
  expect(within(sizes).getByText('from $5.40/mo · $0.0075/h')).toBeInTheDocument();
  expect(within(sizes).getByText('from $42.00/mo · $0.0583/h')).toBeInTheDocument();
  fireEvent.change(screen.getByLabelText('Provider'), { target: { value: 'nimbus' } });
  expect(within(sizes).getByText('$6.90/mo · $0.0096/h')).toBeInTheDocument();
  fireEvent.click(within(sizes).getByRole('radio', { name: /s-2vcpu-4gb/ }));
  expect(screen.getByText(/^Estimated \$27\.60\/mo/)).toBeInTheDocument();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: ' web-1 ' } });
  fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'debian-11-x64' } });
  fireEvent.click(screen.getByRole('button', { name: 'Create droplet' }));
  expect(onSubmit).toHaveBeenCalledWith({
    cluster_id: 'cl_a', name: 'web-1', region: 'fra1', size: 's-2vcpu-4gb', image: 'debian-11-x64', provider: 'nimbus',
  });
});

test("the API's field errors are shown at their fields, a refusal as an alert", () => {
  const error = new ProblemError(422, { detail: 'invalid', errors: { name: 'must start with a lowercase letter' } });
  const { unmount } = render(<DropletForm clusters={CLUSTERS} providers={PROVIDERS} catalog={CATALOG} busy={false} error={error}
    onSubmit={() => {}} onCancel={() => {}} />);
  expect(screen.getByText('must start with a lowercase letter')).toHaveClass('error');
  expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.queryByRole('alert')).toBeNull();
  unmount();
  renderForm({ error: new ProblemError(409, { detail: 'cluster has been deleted' }) });
  expect(screen.getByRole('alert')).toHaveTextContent('Refused: cluster has been deleted.');
});
