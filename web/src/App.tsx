import { lazy, Suspense, useState } from 'react';
import { NavLink, Route, Routes } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { useLiveEvents } from './live/stream';
import { applyTheme, storedTheme, type Theme } from './theme';
import { saveZone, storedZone, ZoneContext, type Zone } from './components/Time';
import { NotFound } from './pages/NotFound';
import { CommandPalette } from './components/CommandPalette';
import { Identity } from './components/Identity';

// Each page is its own chunk, loaded when first opened: the first load carries the shell
// and the page it lands on, not the whole console (charts included).
const Dashboard = lazy(() => import('./pages/Dashboard').then((m) => ({ default: m.Dashboard })));
const Clusters = lazy(() => import('./pages/Clusters').then((m) => ({ default: m.Clusters })));
const ClusterDetail = lazy(() => import('./pages/ClusterDetail').then((m) => ({ default: m.ClusterDetail })));
const Droplets = lazy(() => import('./pages/Droplets').then((m) => ({ default: m.Droplets })));
const DropletDetail = lazy(() => import('./pages/DropletDetail').then((m) => ({ default: m.DropletDetail })));
const System = lazy(() => import('./pages/System').then((m) => ({ default: m.System })));
const Jobs = lazy(() => import('./pages/Jobs').then((m) => ({ default: m.Jobs })));
const Monitoring = lazy(() => import('./pages/Monitoring').then((m) => ({ default: m.Monitoring })));
const JobDetail = lazy(() => import('./pages/JobDetail').then((m) => ({ default: m.JobDetail })));
const Providers = lazy(() => import('./pages/Providers').then((m) => ({ default: m.Providers })));
const Limits = lazy(() => import('./pages/Limits').then((m) => ({ default: m.Limits })));
const Audit = lazy(() => import('./pages/Audit').then((m) => ({ default: m.Audit })));
const Autoscaling = lazy(() => import('./pages/Autoscaling').then((m) => ({ default: m.Autoscaling })));
const Deployments = lazy(() => import('./pages/Deployments').then((m) => ({ default: m.Deployments })));
const DeploymentDetail = lazy(() => import('./pages/DeploymentDetail').then((m) => ({ default: m.DeploymentDetail })));
const AuditStream = lazy(() => import('./pages/AuditStream').then((m) => ({ default: m.AuditStream })));

const NAV = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/clusters', label: 'Clusters' },
  { to: '/droplets', label: 'Droplets' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/monitoring', label: 'Monitoring' },
  { to: '/autoscaling', label: 'Autoscaling' },
  { to: '/deployments', label: 'Deployments' },
  { to: '/audit', label: 'Audit & Replay' },
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
  const [zone, setZone] = useState<Zone>(storedZone);
  const switchZone = () => {
    const next = zone === 'utc' ? 'local' : 'utc';
    saveZone(next);
    setZone(next);
  };
  return (
    <ZoneContext.Provider value={zone}>
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">ClusterGenie</div>
        <CommandPalette zone={zone} onSwitchZone={switchZone} />
        <nav className="nav" aria-label="Main">
          {NAV.map((item) => (
            <NavLink key={item.to} to={item.to} end={item.end}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="spacer" />
        <Identity />
        <div className="freshness" role="status" aria-live="polite">
          Live updates: {live}
        </div>
        <button onClick={switchZone} aria-label={`Show times in ${zone === 'utc' ? 'your local zone' : 'UTC'}`}>
          {zone === 'utc' ? 'Times: UTC' : 'Times: local'}
        </button>
        <button onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </aside>
      <main>
        <Suspense fallback={<p className="muted" role="status">Loading…</p>}>
        <Routes>
          <Route path="/" element={<Dashboard />} />
          <Route path="/clusters" element={<Clusters />} />
          <Route path="/clusters/:id/*" element={<ClusterDetail />} />
          <Route path="/jobs" element={<Jobs />} />
          <Route path="/jobs/:id" element={<JobDetail />} />
          <Route path="/monitoring" element={<Monitoring />} />
          <Route path="/autoscaling" element={<Autoscaling />} />
          <Route path="/deployments" element={<Deployments />} />
          <Route path="/deployments/:id" element={<DeploymentDetail />} />
          <Route path="/audit" element={<Audit />} />
          <Route path="/audit/:type/:id" element={<AuditStream />} />
          <Route path="/droplets" element={<Droplets />} />
          <Route path="/droplets/:id" element={<DropletDetail />} />
          <Route path="/providers" element={<Providers />} />
          <Route path="/limits" element={<Limits />} />
          <Route path="/system" element={<System />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
        </Suspense>
      </main>
    </div>
    </ZoneContext.Provider>
  );
}
