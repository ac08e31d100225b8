// Small pieces shared by the Audit & Replay pages.
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { correlationLink } from './auditState';

/**
 * A labelled text filter that reports its trimmed text once typing pauses (300 ms), and
 * takes the value from outside when it changes there (a link followed, back/forward).
 */
export function FilterField(props: {
  id: string; label: string; value: string; onChange: (value: string) => void; maxLength?: number;
}) {
  const { value, onChange } = props;
  const [text, setText] = useState(value);
  const reported = useRef(value);
  useEffect(() => {
    if (value !== reported.current) {
      reported.current = value;
      setText(value);
    }
  }, [value]);
  useEffect(() => {
    const trimmed = text.trim();
    if (trimmed === reported.current) return;
    const timer = setTimeout(() => {
      reported.current = trimmed;
      onChange(trimmed);
    }, 300);
    return () => clearTimeout(timer);
  }, [text, onChange]);
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input id={props.id} type="search" value={text} autoComplete="off" spellCheck={false}
        maxLength={props.maxLength} onChange={(e) => setText(e.target.value)} />
    </div>
  );
}

/** A correlation id (cut short on screen) as the link that shows every event that carries it. */
export function CorrelationLink({ id }: { id: string }) {
  return (
    <Link to={correlationLink(id)} className="mono correlation" title={`Every event of correlation ${id}`}>
      {id}
    </Link>
  );
}

/** An event's data, folded away until asked for. */
export function EventData({ data }: { data: unknown }) {
  return (
    <details className="event-data">
      <summary>Data</summary>
      <pre>{JSON.stringify(data, null, 2)}</pre>
    </details>
  );
}
