import { useState } from 'react';
import { NavLink, Route, Routes } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { useLiveEvents } from './live/stream';
import { applyTheme, storedTheme, type Theme } from './theme';
import { Dashboard } from './pages/Dashboard';
import { Clusters } from './pages/Clusters';
import { ClusterDetail } from './pages/ClusterDetail';
import { System } from './pages/System';
import { Providers } from './pages/Providers';
import { Limits } from './pages/Limits';
import { NotFound } from './pages/NotFound';

const NAV = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/clusters', label: 'Clusters' },
  { to: '/providers', label: 'Providers' },
  { to: '/limits', label: 'Limits' },
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
          <Route path="/providers" element={<Providers />} />
          <Route path="/limits" element={<Limits />} />
          <Route path="/system" element={<System />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </div>
  );
}
