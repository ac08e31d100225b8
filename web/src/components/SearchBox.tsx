import { useEffect, useState } from 'react';

/** A search field that reports its text once typing pauses (250 ms). */
export function SearchBox(props: { value: string; label: string; onSearch: (text: string) => void }) {
  const [text, setText] = useState(props.value);
  const { onSearch, value } = props;
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onSearch(text), 250);
    return () => clearTimeout(timer);
  }, [text, value, onSearch]);
  return (
    <input type="search" placeholder={props.label} aria-label={props.label} value={text}
      onChange={(e) => setText(e.target.value)} />
  );
}
