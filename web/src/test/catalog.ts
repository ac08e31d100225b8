// `GET /v1/catalog` as the API answers it (api/tests/api/providers.rs checks the same).
import type { Catalog } from '../api/catalog';

const size = (slug: string, vcpus: number, memory_gb: number, price_monthly: number, kind = 'general') => ({
  slug, vcpus, memory_gb, class: kind, price_monthly, price_hourly: Math.round((price_monthly / 720) * 1e6) / 1e6,
});

export const CATALOG = {
  regions: [
    ['nyc1', 'New York 1'], ['nyc2', 'New York 2'], ['nyc3', 'New York 3'], ['sfo1', 'San Francisco 1'],
    ['sfo2', 'San Francisco 2'], ['sfo3', 'San Francisco 3'], ['lon1', 'London 1'], ['fra1', 'Frankfurt 1'],
    ['tor1', 'Toronto 1'], ['blr1', 'Bangalore 1'], ['sgp1', 'Singapore 1'],
  ].map(([id, name]) => ({ id, name })),
  sizes: [
    size('s-1vcpu-1gb', 1, 1, 6),
    size('s-1vcpu-2gb', 1, 2, 12),
    size('s-2vcpu-2gb', 2, 2, 18),
    size('s-2vcpu-4gb', 2, 4, 24),
    size('s-4vcpu-8gb', 4, 8, 48),
    size('c-2', 2, 4, 42, 'cpu_optimized'),
    size('m-1vcpu-8gb', 1, 8, 48, 'memory_optimized'),
  ],
  images: [
    ['ubuntu-22-04-x64', 'Ubuntu 22.04 x64'], ['ubuntu-20-04-x64', 'Ubuntu 20.04 x64'], ['centos-7-x64', 'CentOS 7 x64'],
    ['debian-11-x64', 'Debian 11 x64'], ['fedora-36-x64', 'Fedora 36 x64'], ['rocky-8-x64', 'Rocky Linux 8 x64'],
  ].map(([slug, name]) => ({ slug, name })),
  hours_per_month: 720,
} as Catalog;
