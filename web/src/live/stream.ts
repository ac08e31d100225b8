// One Server-Sent Events connection drives what is on screen: each event invalidates the
// queries of what it touched. The browser's EventSource resumes after a drop with
// `Last-Event-ID`, so nothing is missed. It carries no `X-User-Id` (EventSource cannot set
// headers), and needs none: the server reads no caller on `/v1/events/stream` (no actor is
// recorded by a read, and no rate limit guards the stream).
import { useEffect, useState } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { EVENT_TYPES } from './eventTypes';
import { observe } from './position';

/** What an event from the stream carries that the console uses. */
export interface StreamEvent {
  position: number;
  aggregate_type: string;
  aggregate_id: string;
  type: string;
}

/** The query keys an event makes stale. */
export function staleKeys(event: StreamEvent): string[][] {
  const keys: string[][] = [['dashboard']];
  switch (event.aggregate_type) {
    case 'cluster':
      // `cluster.status_changed` too: the status in lists, pages and counts, and its health.
      keys.push(['clusters'], ['cluster', event.aggregate_id]);
      break;
    case 'droplet':
      // `['provider']`: a provider's live droplets (its usage) are counted from droplets.
      keys.push(['droplets'], ['clusters'], ['cluster'], ['provider']);
      break;
    case 'job':
      keys.push(['jobs'], ['cluster']);
      break;
    case 'diagnosis':
      // A diagnosis stream is its cluster's (`aggregate_id` is the cluster id).
      keys.push(['diagnosis', event.aggregate_id]);
      break;
    default:
      keys.push([event.aggregate_type]);
  }
  keys.push(['audit', event.aggregate_type, event.aggregate_id]);
  return keys;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/** Holds the live stream open while mounted; invalidations are batched every 250 ms. */
export function useLiveEvents(client: QueryClient): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource('/v1/events/stream');
    const pending = new Map<string, string[]>();
    let frame: ReturnType<typeof setTimeout> | 0 = 0;
    const flush = () => {
      frame = 0;
      for (const key of pending.values()) void client.invalidateQueries({ queryKey: key });
      pending.clear();
    };
    const onMessage = (message: MessageEvent<string>) => {
      try {
        const event = JSON.parse(message.data) as StreamEvent;
        observe(event.position);
        for (const key of staleKeys(event)) pending.set(key.join('\u0000'), key);
        if (!frame) frame = setTimeout(flush, 250);
      } catch {
        // A message that is not an event (never sent by the server) changes nothing.
      }
    };
    source.onopen = () => setState('live');
    source.onerror = () => setState('reconnecting');
    source.onmessage = onMessage;
    // Named events (`event: <type>`) do not reach onmessage: listen to every type.
    const named = (e: Event) => onMessage(e as MessageEvent<string>);
    for (const type of EVENT_TYPES) source.addEventListener(type, named);
    return () => {
      if (frame) clearTimeout(frame);
      source.close();
    };
  }, [client]);
  return state;
}
