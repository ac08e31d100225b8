// The client for endpoints the generated `schema.d.ts` does not describe yet (auto-scaling and
// deployments): the same `api` object (same base, same `X-User-Id` middleware, same spies in
// tests), with paths and bodies typed by the hand-written modules that use it. Once
// `npm run gen` has regenerated `schema.d.ts` from the OpenAPI document, these calls can go
// through `api` itself and this file can go.
import { api } from './client';

/** An openapi-fetch answer. */
export interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

interface Init {
  params?: { path?: Record<string, string>; query?: Record<string, string | number | undefined> };
  body?: unknown;
}

export interface UntypedClient {
  GET<T>(path: string, init?: Init): Promise<Answer<T>>;
  POST<T>(path: string, init?: Init): Promise<Answer<T>>;
  PUT<T>(path: string, init?: Init): Promise<Answer<T>>;
  DELETE<T>(path: string, init?: Init): Promise<Answer<T>>;
}

export const untyped = api as unknown as UntypedClient;
