import { act, fireEvent, render, screen } from '@testing-library/react';
import { saveUserId } from '../api/identity';
import { Identity } from './Identity';

afterEach(() => localStorage.clear());

const status = () => screen.getAllByRole('status').find((s) => s.textContent?.startsWith('Acting as'));

test('by default the console acts as anonymous, and says so', () => {
  render(<Identity />);
  expect(status()).toHaveTextContent('Acting as anonymous');
  expect(screen.getByText('No name set: your actions are recorded as anonymous.')).toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Set your name' })).toBeInTheDocument();
});

test('a name is set in the dialog, remembered and shown', () => {
  render(<Identity />);
  fireEvent.click(screen.getByRole('button', { name: 'Set your name' }));
  fireEvent.change(screen.getByLabelText('Your name'), { target: { value: '  alice ' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  expect(localStorage.getItem('cg-user-id')).toBe('alice');
  expect(status()).toHaveTextContent('Acting as alice');
  expect(screen.queryByText(/No name set/)).not.toBeInTheDocument();
  expect(screen.queryByLabelText('Your name')).not.toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Change name' })).toBeInTheDocument();
});

test('a name the API would refuse is shown at the field and not saved', () => {
  render(<Identity />);
  fireEvent.click(screen.getByRole('button', { name: 'Set your name' }));
  const field = screen.getByLabelText('Your name');
  fireEvent.change(field, { target: { value: 'x'.repeat(201) } });
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  expect(field).toHaveAttribute('aria-invalid', 'true');
  expect(field).toHaveAccessibleDescription('At most 200 characters (this is 201).');
  expect(localStorage.getItem('cg-user-id')).toBeNull();
  fireEvent.change(field, { target: { value: 'renée' } });
  expect(field).toHaveAccessibleDescription(/Only visible ASCII characters/);
  // Fixed: the error goes as it is typed.
  fireEvent.change(field, { target: { value: 'renee' } });
  expect(field).toHaveAttribute('aria-invalid', 'false');
  expect(field).toHaveAccessibleDescription(/^Sent as X-User-Id/);
});

test('the name is read back after a reload, and "Act anonymously" forgets it', () => {
  localStorage.setItem('cg-user-id', 'bob');
  render(<Identity />);
  expect(status()).toHaveTextContent('Acting as bob');
  fireEvent.click(screen.getByRole('button', { name: 'Change name' }));
  expect(screen.getByLabelText('Your name')).toHaveValue('bob');
  fireEvent.click(screen.getByRole('button', { name: 'Act anonymously' }));
  expect(localStorage.getItem('cg-user-id')).toBeNull();
  expect(status()).toHaveTextContent('Acting as anonymous');
});

test('Cancel changes nothing; a change made elsewhere is followed', () => {
  localStorage.setItem('cg-user-id', 'bob');
  render(<Identity />);
  fireEvent.click(screen.getByRole('button', { name: 'Change name' }));
  fireEvent.change(screen.getByLabelText('Your name'), { target: { value: 'carol' } });
  fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
  expect(localStorage.getItem('cg-user-id')).toBe('bob');
  expect(status()).toHaveTextContent('Acting as bob');
  act(() => saveUserId('dave'));
  expect(status()).toHaveTextContent('Acting as dave');
});
