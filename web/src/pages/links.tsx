import { Link } from 'react-router-dom';

/** A link to an aggregate's page where the console has one, else its id. */
export function aggregateLink(type: string, id: string) {
  if (type === 'cluster') return <Link to={`/clusters/${id}`} className="mono">{id}</Link>;
  if (type === 'droplet') return <Link to={`/droplets/${id}`} className="mono">{id}</Link>;
  if (type === 'job') return <Link to={`/jobs/${id}`} className="mono">{id}</Link>;
  return <span className="mono">{id}</span>;
}
