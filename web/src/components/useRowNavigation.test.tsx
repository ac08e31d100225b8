import { act, fireEvent, render, screen } from '@testing-library/react';
import { nextIndex, useRowNavigation } from './useRowNavigation';

type Row = { id: string; name: string };

function Table({ rows, onOpen }: { rows: Row[]; onOpen: (row: Row) => void }) {
  const nav = useRowNavigation(rows, (r) => r.id, onOpen);
  return (
    <>
      <p {...nav.hintProps} />
      <table {...nav.tableProps} aria-label="Things">
        <tbody {...nav.bodyProps}>
          {rows.map((row, i) => (
            <tr key={row.id} {...nav.rowProps(row, i)} data-testid={row.id}>
              <td><a href={`#${row.id}`}>{row.name}</a></td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const focus = (el: HTMLElement) => act(() => el.focus());
const rows = (...ids: string[]) => ids.map((id) => ({ id, name: `name-${id}` }));

test('keys move within the rows and stop at both ends', () => {
  expect(nextIndex('ArrowDown', 0, 3)).toBe(1);
  expect(nextIndex('j', 2, 3)).toBe(2);
  expect(nextIndex('ArrowUp', 0, 3)).toBe(0);
  expect(nextIndex('k', 2, 3)).toBe(1);
  expect(nextIndex('Home', 2, 3)).toBe(0);
  expect(nextIndex('End', 0, 3)).toBe(2);
  expect(nextIndex('x', 0, 3)).toBeNull();
  expect(nextIndex('ArrowDown', 0, 0)).toBeNull();
});

test('one row is the tab stop; arrows, j/k, Home and End move the focus; Enter opens', () => {
  const onOpen = vi.fn();
  render(<Table rows={rows('a', 'b', 'c')} onOpen={onOpen} />);
  expect(screen.getByRole('table')).toHaveAccessibleDescription(/Up and Down \(or j and k\)/);
  expect(screen.getByTestId('a')).toHaveAttribute('tabindex', '0');
  expect(screen.getByTestId('b')).toHaveAttribute('tabindex', '-1');
  focus(screen.getByTestId('a'));
  fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
  expect(screen.getByTestId('b')).toHaveFocus();
  fireEvent.keyDown(document.activeElement!, { key: 'j' });
  expect(screen.getByTestId('c')).toHaveFocus();
  fireEvent.keyDown(document.activeElement!, { key: 'j' });
  expect(screen.getByTestId('c')).toHaveFocus();
  expect(screen.getByTestId('c')).toHaveAttribute('tabindex', '0');
  expect(screen.getByTestId('a')).toHaveAttribute('tabindex', '-1');
  fireEvent.keyDown(document.activeElement!, { key: 'Home' });
  expect(screen.getByTestId('a')).toHaveFocus();
  fireEvent.keyDown(document.activeElement!, { key: 'End' });
  expect(screen.getByTestId('c')).toHaveFocus();
  fireEvent.keyDown(document.activeElement!, { key: 'k' });
  fireEvent.keyDown(document.activeElement!, { key: 'Enter' });
  expect(onOpen).toHaveBeenCalledWith({ id: 'b', name: 'name-b' });
});

test('Enter on a link inside a row is the link\u2019s; a modified key is left alone', () => {
  const onOpen = vi.fn();
  render(<Table rows={rows('a', 'b')} onOpen={onOpen} />);
  const link = screen.getByRole('link', { name: 'name-a' });
  focus(link);
  fireEvent.keyDown(link, { key: 'Enter' });
  expect(onOpen).not.toHaveBeenCalled();
  // Focusing inside a row makes it the current one; the arrows still move.
  fireEvent.keyDown(link, { key: 'ArrowDown' });
  expect(screen.getByTestId('b')).toHaveFocus();
  fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp', ctrlKey: true });
  expect(screen.getByTestId('b')).toHaveFocus();
});

test('across live updates the focus stays on its row, or goes to the row now at its place', () => {
  const onOpen = vi.fn();
  const { rerender } = render(<Table rows={rows('a', 'b', 'c')} onOpen={onOpen} />);
  focus(screen.getByTestId('b'));
  // Reordered: the same row keeps the focus and the tab stop.
  rerender(<Table rows={rows('c', 'a', 'b')} onOpen={onOpen} />);
  expect(screen.getByTestId('b')).toHaveFocus();
  expect(screen.getByTestId('b')).toHaveAttribute('tabindex', '0');
  fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
  expect(screen.getByTestId('a')).toHaveFocus();
  // Removed: the row that takes its place (the same index) gets the focus.
  rerender(<Table rows={rows('c', 'b')} onOpen={onOpen} />);
  expect(screen.getByTestId('b')).toHaveFocus();
  // Removed last: the new last row.
  rerender(<Table rows={rows('c')} onOpen={onOpen} />);
  expect(screen.getByTestId('c')).toHaveFocus();
});

test('an update does not take the focus when it was elsewhere', () => {
  const { rerender } = render(<><button>elsewhere</button><Table rows={rows('a', 'b')} onOpen={() => {}} /></>);
  focus(screen.getByTestId('b'));
  focus(screen.getByRole('button', { name: 'elsewhere' }));
  rerender(<><button>elsewhere</button><Table rows={rows('a')} onOpen={() => {}} /></>);
  expect(screen.getByRole('button', { name: 'elsewhere' })).toHaveFocus();
  expect(screen.getByTestId('a')).toHaveAttribute('tabindex', '0');
});
