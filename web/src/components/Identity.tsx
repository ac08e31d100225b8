// The sidebar's "Acting as": who the console names as the caller (`X-User-Id`) of every
// request, set in a small dialog and remembered in the browser.
import { useState, type FormEvent } from 'react';
import { MAX_USER_ID, saveUserId, userIdError, useUserId } from '../api/identity';
import { Dialog } from './Dialog';

const HELP = `Sent as X-User-Id with every request: the log records it as the actor of what you do, and per-user
rate limits count by it. Visible ASCII and spaces, at most ${MAX_USER_ID} characters; empty: anonymous.`;

/** The name to act as, checked as the API checks `X-User-Id`; saved in the browser. */
export function IdentityForm(props: { current: string | null; onDone: () => void }) {
  const [text, setText] = useState(props.current ?? '');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const problem = userIdError(text);
    setError(problem);
    if (problem) return;
    saveUserId(text);
    props.onDone();
  };
  const change = (value: string) => {
    setText(value);
    // Once shown, the error follows the text (and goes once it is fixed).
    if (error) setError(userIdError(value));
  };
  return (
    <form className="identity-form" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor="user-id">Your name</label>
        <input id="user-id" value={text} onChange={(e) => change(e.target.value)} autoFocus autoComplete="username"
          aria-invalid={!!error} aria-describedby="user-id-help" placeholder="e.g. alice" spellCheck={false} />
        <span id="user-id-help" className={error ? 'error' : 'muted'}>{error ?? HELP}</span>
      </div>
      <p className="muted">
        This is no sign-in: the API takes the name as sent, so anyone can act under any name.
      </p>
      <div className="actions">
        <button type="button" onClick={props.onDone}>Cancel</button>
        {props.current && (
          <button type="button" onClick={() => { saveUserId(null); props.onDone(); }}>Act anonymously</button>
        )}
        <button type="submit" className="primary">Save</button>
      </div>
    </form>
  );
}

/** "Acting as <name>" (or anonymous, with a hint) and the button that changes it. */
export function Identity() {
  const user = useUserId();
  const [open, setOpen] = useState(false);
  return (
    <div className="identity">
      <div role="status" aria-live="polite">
        Acting as <strong>{user ?? 'anonymous'}</strong>
      </div>
      {!user && <div className="identity-hint">No name set: your actions are recorded as anonymous.</div>}
      <button type="button" onClick={() => setOpen(true)} aria-haspopup="dialog">
        {user ? 'Change name' : 'Set your name'}
      </button>
      <Dialog open={open} title="Who you are" onClose={() => setOpen(false)}>
        <IdentityForm current={user} onDone={() => setOpen(false)} />
      </Dialog>
    </div>
  );
}
