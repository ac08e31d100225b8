import { render, screen } from '@testing-library/react';
import { ProgressBar } from './ProgressBar';

test('the bar names itself, holds its value within 0-100 and takes its tone', () => {
  render(<><ProgressBar value={140} label="Progress of a" tone="ok" /><ProgressBar value={-3} label="Progress of b" /></>);
  const a = screen.getByRole('progressbar', { name: 'Progress of a' });
  expect(a).toHaveAttribute('aria-valuenow', '100');
  expect(a).toHaveClass('progress', 'ok');
  expect(screen.getByRole('progressbar', { name: 'Progress of b' })).toHaveAttribute('aria-valuenow', '0');
  expect(screen.getByText('0%')).toBeInTheDocument();
});
