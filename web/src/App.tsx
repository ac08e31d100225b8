import { useState } from 'react';
import { NavLink, Route, Routes } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { useLiveEvents } from './live/stream';
import { applyTheme, storedTheme, type Theme } from './theme';
import { Dashboard } from './pages/Dashboard';
import { Clusters } from './pages/Clusters';
import { ClusterDetail } from './pages/ClusterDetail';
import { Droplets } from './pages/Droplets';
import { DropletDetail } from './pages/DropletDetail';
import { System } from './pages/System';
import { Jobs } from './pages/Jobs';
import { JobDetail } from './pages/JobDetail';
import { NotFound } from './pages/NotFound';
import { Audit } from './pages/Audit';
import { AuditStream } from './pages/AuditStream';

const NAV = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/clusters', label: 'Clusters' },
  { to: '/droplets', label: 'Droplets' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/audit', label: 'Audit & Replay' },
  { to: '/system', label: 'System' },
];

export function App() {
  const live = useLiveEvents(useQueryClient());
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    setTheme(next);
  };
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">ClusterGenie</div>
        <nav className="nav" aria-label="Main">
          {NAV.map((item) => (
            <NavLink key={item.to} to={item.to} end={item.end}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="spacer" />
        <div className="freshness" role="status" aria-live="polite">
          Live updates: {live}
        </div>
        <button onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </aside>
      <main>
        <Routes>
          <Route path="/" element={<Dashboard />} />
          <Route path="/clusters" element={<Clusters />} />
          <Route path="/clusters/:id/*" element={<ClusterDetail />} />
          <Route path="/jobs" element={<Jobs />} />
          <Route path="/jobs/:id" element={<JobDetail />} />
          <Route path="/audit" element={<Audit />} />
          <Route path="/audit/:type/:id" element={<AuditStream />} />
          <Route path="/droplets" element={<Droplets />} />
          <Route path="/droplets/:id" element={<DropletDetail />} />
          <Route path="/system" element={<System />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </div>
  );
}
