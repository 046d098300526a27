import { describe, expect, it } from 'vitest';
import { clientId } from './useDanmaku';

describe('clientId', () => {
  it('is 32 hex characters (within the API limit of 64) and differs each time', () => {
    const a = clientId();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(clientId()).not.toBe(a);
  });
});
