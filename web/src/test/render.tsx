// Renders a page with a query cache filled in advance (nothing is fetched) at a URL.
import type { ReactNode } from 'react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';

function Location() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

export function renderAt(url: string, path: string, page: ReactNode, data: [unknown[], unknown][] = []) {
  const client = new QueryClient({ defaultOptions: { queries: { enabled: false, retry: false } } });
  for (const [key, value] of data) client.setQueryData(key, value);
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path={path} element={<>{page}<Location /></>} />
          <Route path="*" element={<Location />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return client;
}
