/** Previous / next over page numbers, with the total (flagged when estimated). */
export function Pager(props: {
  page: number;
  pageSize: number;
  total?: number | null;
  estimate?: boolean;
  hasNext: boolean;
  onPage: (page: number) => void;
}) {
  const { page, pageSize, total, estimate } = props;
  const first = (page - 1) * pageSize + 1;
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted">
        {total === 0 ? 'No rows' : `Page ${page}`}
        {total != null && total > 0 && ` · ${first}–${first + pageSize - 1 > total ? total : first + pageSize - 1} of ${estimate ? '≈' : ''}${total.toLocaleString()}`}
      </span>
      <button disabled={page <= 1} onClick={() => props.onPage(page - 1)}>
        Previous
      </button>
      <button disabled={!props.hasNext} onClick={() => props.onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
