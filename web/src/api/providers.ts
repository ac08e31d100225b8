// Providers, their injected faults (chaos) and what a cluster and the fleet cost. Faults are not events:
// a change is seen by refetching after the command (and by every `provider` event of the
// live stream, which marks `['provider']` stale).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from './client';
import { fresh, observe } from '../live/position';

export type ProviderItem = Schemas['ProviderListItem'];
export type Faults = Schemas['Faults'];
export type Billing = Schemas['Billing'];
export type FleetBilling = Schemas['FleetBilling'];
export type Job = Schemas['JobView'];
export type SizeSlug = NonNullable<Schemas['RegisterProviderBody']['sizes']>[number];

/** Every provider with its faults in this process, sim speed and live droplets. */
export function useProviderList() {
  return useQuery({
    queryKey: ['provider', 'list', 'with-usage'],
    queryFn: async () => unwrap(await api.GET('/v1/providers', { params: { query: fresh() } })),
    placeholderData: (previous) => previous,
  });
}

/** Replaces a provider's faults in the answering process (not recorded). */
export function useSetFaults(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Faults) =>
      unwrap(await api.PUT('/v1/admin/providers/{name}/faults', { params: { path: { name } }, body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['provider'] }),
  });
}

export function useRegisterProvider() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['RegisterProviderBody']) => unwrap(await api.POST('/v1/providers', { body })),
    onSuccess: async (answer) => {
      observe(answer.position);
      await client.invalidateQueries({ queryKey: ['provider'] });
    },
  });
}

/** A cluster's costs by provider; droplet events mark `['cluster']` stale. */
export function useClusterBilling(id: string) {
  return useQuery({
    queryKey: ['cluster', id, 'billing'],
    enabled: id !== '',
    queryFn: async () =>
      unwrap(await api.GET('/v1/clusters/{id}/billing', { params: { path: { id }, query: fresh() } })),
    retry: false,
    placeholderData: (previous) => (previous?.cluster_id === id ? previous : undefined),
  });
}

/** The fleet's costs' query key: under `['provider']`, which every droplet and provider
 * event of the live stream marks stale (a droplet's billing changes with the first, its
 * price with the second). */
export const FLEET_BILLING_KEY = ['provider', 'fleet-billing'] as const;

/** What every billed droplet of the fleet costs, in total, by provider and by region. */
export function useFleetBilling() {
  return useQuery({
    queryKey: FLEET_BILLING_KEY,
    queryFn: async () => unwrap(await api.GET('/v1/billing', { params: { query: fresh() } })),
    placeholderData: (previous) => previous,
  });
}

/** The newest jobs of every cluster, for watching attempts fail and retry. */
export function useRecentJobs(limit: number) {
  return useQuery({
    queryKey: ['jobs', { recent: limit }],
    queryFn: async () =>
      unwrap(await api.GET('/v1/jobs', { params: { query: { page_size: limit, sort_dir: 'desc', ...fresh() } } })),
    placeholderData: (previous) => previous,
  });
}

/** One job's events (for when its next attempt is due). */
export function useJobEvents(id: string, enabled: boolean) {
  return useQuery({
    queryKey: ['jobs', id, 'stream'],
    enabled,
    queryFn: async () =>
      unwrap(await api.GET('/v1/streams/{aggregate_type}/{id}', { params: { path: { aggregate_type: 'job', id } } })),
  });
}
