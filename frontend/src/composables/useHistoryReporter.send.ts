import { apiClient } from '@/api/client';
import type { ReportOptions } from './useHistoryReporter.core';

/** `PUT /api/v1/me/history/{movie}` through the token-aware fetch; `keepalive` outlives the page. */
export async function sendProgress(movieId: number, positionMs: number, opts: ReportOptions): Promise<void> {
  await apiClient.authFetch(
    new Request(`/api/v1/me/history/${movieId}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ position_ms: positionMs }),
      keepalive: opts.keepalive,
    }),
  );
}
