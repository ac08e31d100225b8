import { fireEvent, screen, within } from '@testing-library/react';
import { api } from '../api/client';
import { renderAt } from '../test/render';
import { CommandPalette, SEARCH_PAGE_SIZE } from './CommandPalette';

const HEX = '0193a7b2c3d4e5f60718293a4b5c6d7e';
const location = () => screen.getByTestId('location').textContent;
const ok = (data: unknown) => ({ data, response: new Response(null, { status: 200 }) });
const page = (items: unknown[]) => ok({ items, page_size: SEARCH_PAGE_SIZE, total: items.length, total_is_estimate: false });

afterEach(() => vi.restoreAllMocks());

function open(onSwitchZone = () => {}) {
  renderAt('/', '/', <CommandPalette zone="local" onSwitchZone={onSwitchZone} />);
  fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
  const dialog = screen.getByRole('dialog', { name: 'Search or jump' });
  return { dialog, input: within(dialog).getByRole('combobox') };
}

test('Ctrl+K opens the palette on its field; Escape closes it and gives the focus back', () => {
  renderAt('/', '/', <CommandPalette zone="local" onSwitchZone={() => {}} />);
  const button = screen.getByRole('button', { name: /^Search or jump… (Ctrl|⌘) K$/ });
  button.focus();
  expect(screen.queryByRole('dialog')).toBeNull();
  fireEvent.keyDown(window, { key: 'k', metaKey: true });
  const input = within(screen.getByRole('dialog')).getByRole('combobox');
  expect(input).toHaveFocus();
  expect(within(screen.getByRole('dialog')).getAllByRole('option')).toHaveLength(14);
  // The focus stays in the dialog.
  expect(fireEvent.keyDown(input, { key: 'Tab' })).toBe(false);
  expect(fireEvent.keyDown(input, { key: 'Tab', shiftKey: true })).toBe(false);
  fireEvent.keyDown(input, { key: 'Escape' });
  expect(screen.queryByRole('dialog')).toBeNull();
  expect(button).toHaveFocus();
  fireEvent.click(button);
  expect(screen.getByRole('dialog')).toBeInTheDocument();
});

test('arrow keys move the chosen option and Enter opens it', () => {
  const { dialog, input } = open();
  fireEvent.change(input, { target: { value: 'drop' } });
  const options = within(dialog).getAllByRole('option');
  expect(options.map((o) => o.textContent)).toEqual(['Page Droplets', 'Action Create droplet']);
  expect(options[0]).toHaveAttribute('aria-selected', 'true');
  expect(input).toHaveAttribute('aria-activedescendant', options[0]!.id);
  fireEvent.keyDown(input, { key: 'ArrowDown' });
  fireEvent.keyDown(input, { key: 'ArrowDown' });
  expect(options[0]).toHaveAttribute('aria-selected', 'true');
  fireEvent.keyDown(input, { key: 'ArrowUp' });
  expect(within(dialog).getAllByRole('option')[1]).toHaveAttribute('aria-selected', 'true');
  fireEvent.keyDown(input, { key: 'ArrowUp' });
  fireEvent.keyDown(input, { key: 'Enter' });
  expect(location()).toBe('/droplets');
  expect(screen.queryByRole('dialog')).toBeNull();
});

test('an id pasted whole jumps to its page', () => {
  const { input } = open();
  fireEvent.change(input, { target: { value: ` dr_${HEX} ` } });
  fireEvent.keyDown(input, { key: 'Enter' });
  expect(location()).toBe(`/droplets/dr_${HEX}`);
});

test('text searches clusters and droplets by name through the lists, once typing pauses', async () => {
  const get = vi.spyOn(api, 'GET').mockImplementation((async (path: string) => {
    if (path === '/v1/clusters') return page([{ id: 'cl_1', name: 'web-prod', region: 'fra1', status: 'healthy' }]);
    return page([{ id: 'dr_1', name: 'web-1', cluster_id: 'cl_1', cluster_name: 'web-prod', status: 'active' }]);
  }) as never);
  const { dialog, input } = open();
  fireEvent.change(input, { target: { value: 'w' } });
  fireEvent.change(input, { target: { value: 'web' } });
  const droplet = await within(dialog).findByRole('option', { name: /Droplet\s*web-1/ });
  expect(within(dialog).getByRole('option', { name: /Cluster\s*web-prod\s*fra1 · healthy/ })).toBeInTheDocument();
  // One search for the text typing paused on.
  expect(get.mock.calls).toEqual([
    ['/v1/clusters', { params: { query: { search: 'web', page_size: SEARCH_PAGE_SIZE, sort_by: 'name' } } }],
    ['/v1/droplets', { params: { query: { search: 'web', page_size: SEARCH_PAGE_SIZE, sort_by: 'name' } } }],
  ]);
  fireEvent.click(droplet);
  expect(location()).toBe('/droplets/dr_1');
});

test('actions switch the time zone and open the create forms', async () => {
  const onSwitchZone = vi.fn();
  const { input } = open(onSwitchZone);
  fireEvent.change(input, { target: { value: 'times' } });
  fireEvent.keyDown(input, { key: 'Enter' });
  expect(onSwitchZone).toHaveBeenCalledOnce();
  fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
  fireEvent.change(screen.getByRole('combobox'), { target: { value: 'create cluster' } });
  fireEvent.keyDown(screen.getByRole('combobox'), { key: 'Enter' });
  expect(await screen.findByRole('heading', { name: 'Create a cluster' })).toBeInTheDocument();
  // Not over another dialog.
  fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
  expect(screen.queryByRole('dialog', { name: 'Search or jump' })).toBeNull();
});
