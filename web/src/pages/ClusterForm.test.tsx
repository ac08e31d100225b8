import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen } from '@testing-library/react';
import { ProblemError } from '../api/client';
import { ClusterForm } from './ClusterForm';

function renderForm(props: Partial<Parameters<typeof ClusterForm>[0]> = {}) {
  const onSubmit = vi.fn();
  // No provider list is fetched in these tests: the query never resolves.
  const client = new QueryClient({ defaultOptions: { queries: { enabled: false } } });
  render(
    <QueryClientProvider client={client}>
      <ClusterForm submitLabel="Create" busy={false} error={null} onSubmit={onSubmit} onCancel={() => {}} {...props} />
    </QueryClientProvider>,
  );
  return onSubmit;
}

test('the form submits the trimmed name and the region', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: ' web-prod ' } });
  fireEvent.change(screen.getByLabelText('Region'), { target: { value: 'fra1' } });
  fireEvent.click(screen.getByRole('button', { name: 'Create' }));
  expect(onSubmit).toHaveBeenCalledWith({ name: 'web-prod', region: 'fra1' });
});

test("the API's field errors are shown beside their fields", () => {
  const error = new ProblemError(422, {
    title: 'Unprocessable Entity', detail: 'invalid input', errors: { name: 'must start with a letter' },
  });
  renderForm({ error });
  expect(screen.getByText('must start with a letter')).toHaveClass('error');
  expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
});

test('an error without fields is shown as an alert', () => {
  renderForm({ error: new ProblemError(409, { title: 'Conflict', detail: 'the name is taken' }) });
  expect(screen.getByRole('alert')).toHaveTextContent('the name is taken');
});
