// Which commands a droplet takes in its state, as the droplet's state machine decides them
// (engine/src/domain/droplet/decide.rs): nothing once destroyed or while a job works on it;
// resize and migrate when active or off; power on when off, off and restart when active;
// destroy when active, off or failed. The server still decides: a refusal is shown as it comes.
import type { Droplet } from '../api/droplets';
import type { Provider } from '../api/catalog';

export type DropletAction = 'resize' | 'power_on' | 'power_off' | 'restart' | 'migrate' | 'destroy';

const ALLOWED: Record<DropletAction, readonly string[]> = {
  resize: ['active', 'off'],
  power_on: ['off'],
  power_off: ['active'],
  restart: ['active'],
  migrate: ['active', 'off'],
  destroy: ['active', 'off', 'failed'],
};

/** For each action, `null` when the droplet takes it now, else why not. */
export function actionState(d: Pick<Droplet, 'status' | 'pending_job_id'>): Record<DropletAction, string | null> {
  const why = (action: DropletAction): string | null => {
    if (d.status === 'destroyed') return 'The droplet is destroyed.';
    if (d.pending_job_id) return `A job (${d.pending_job_id}) is working on the droplet; wait until it ends.`;
    if (!ALLOWED[action].includes(d.status)) return `Not while the droplet is ${d.status}.`;
    return null;
  };
  return {
    resize: why('resize'),
    power_on: why('power_on'),
    power_off: why('power_off'),
    restart: why('restart'),
    migrate: why('migrate'),
    destroy: why('destroy'),
  };
}

/** The one reason shared by every refused action (busy, destroyed), to say once. */
export function blockedReason(d: Pick<Droplet, 'status' | 'pending_job_id'>): string | null {
  if (d.status === 'destroyed') return 'The droplet is destroyed: nothing more can be done with it.';
  if (d.pending_job_id) return 'A job is working on the droplet: other actions wait until it ends.';
  return null;
}

/** Providers a droplet can move to: not its own, offering its region and its size. */
export function migrationTargets(d: Pick<Droplet, 'provider' | 'region' | 'size'>, providers: readonly Provider[]): Provider[] {
  return providers.filter((p) => p.name !== d.provider && p.regions.includes(d.region) && p.sizes.includes(d.size));
}
