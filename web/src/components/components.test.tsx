import { act, fireEvent, render, screen } from '@testing-library/react';
import { Pager } from './Pager';
import { SearchBox } from './SearchBox';
import { StatusBadge } from './Badge';

test('the pager names the rows shown and flags an estimated total', () => {
  const onPage = vi.fn();
  render(<Pager page={2} pageSize={20} total={1001} estimate hasNext onPage={onPage} />);
  expect(screen.getByText(/21–40 of ≈1,001/)).toBeInTheDocument();
  fireEvent.click(screen.getByRole('button', { name: 'Next' }));
  fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
  expect(onPage.mock.calls).toEqual([[3], [1]]);
});

test('the pager has no previous page on the first, no next after the last', () => {
  render(<Pager page={1} pageSize={20} total={7} hasNext={false} onPage={() => {}} />);
  expect(screen.getByText(/1–7 of 7/)).toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Previous' })).toBeDisabled();
  expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();
});

test('a search is reported once typing pauses', () => {
  vi.useFakeTimers();
  const onSearch = vi.fn();
  render(<SearchBox value="" label="Search" onSearch={onSearch} />);
  const box = screen.getByLabelText('Search');
  fireEvent.change(box, { target: { value: 'w' } });
  fireEvent.change(box, { target: { value: 'web' } });
  act(() => vi.advanceTimersByTime(200));
  expect(onSearch).not.toHaveBeenCalled();
  act(() => vi.advanceTimersByTime(100));
  expect(onSearch.mock.calls).toEqual([['web']]);
  vi.useRealTimers();
});

test('statuses get their tone, unknown ones a neutral one', () => {
  render(<><StatusBadge status="critical" /><StatusBadge status="timed_out" /><StatusBadge status="mystery" /></>);
  expect(screen.getByText('critical')).toHaveClass('badge');
  expect(screen.getByText('timed out')).toHaveClass('danger');
  expect(screen.getByText('mystery')).toHaveClass('muted');
});
