import { Link } from 'react-router-dom';

export function NotFound() {
  return (
    <div className="card">
      <h1>Nothing here</h1>
      <p>
        This address is not a page of the console. <Link to="/">Go to the dashboard</Link>.
      </p>
    </div>
  );
}
