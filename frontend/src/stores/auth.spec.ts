import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useAuthStore } from './auth';

const me = (role = 'user') => ({
  id: 7,
  username: 'xiaoming',
  email: 'x@example.com',
  nickname: '小明',
  bio: '',
  role,
  created_at: '2026-01-01T00:00:00Z',
});
const tokens = (n: number) => ({
  access_token: `a${n}`,
  refresh_token: `r${n}`,
  token_type: 'Bearer',
  expires_in: 900,
  refresh_expires_at: '2030-01-01T00:00:00Z',
});
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const problem = (status: number, code: string) =>
  new Response(JSON.stringify({ type: 'about:blank', title: 't', status, detail: code, code }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });

type Handler = (req: Request) => Response | Promise<Response>;
let handler: Handler;
const fetchMock = vi.fn((req: Request) => Promise.resolve(handler(req)));

beforeEach(() => {
  localStorage.clear();
  vi.stubGlobal('fetch', fetchMock);
  fetchMock.mockClear();
  setActivePinia(createPinia());
});
afterEach(() => vi.unstubAllGlobals());

describe('auth store', () => {
  it('logs in, keeps the tokens across reloads, and knows admins', async () => {
    handler = () => json(200, { user: me('admin'), tokens: tokens(1) });
    const auth = useAuthStore();
    await auth.login('xiaoming', 'pw');
    expect(auth.isLoggedIn).toBe(true);
    expect(auth.isAdmin).toBe(true);
    expect(auth.displayName).toBe('小明');
    expect(JSON.parse(localStorage.getItem('luojia.tokens') ?? '{}').access_token).toBe('a1');

    // A new page load starts from localStorage and fetches the account once.
    setActivePinia(createPinia());
    handler = (req) => {
      expect(req.headers.get('Authorization')).toBe('Bearer a1');
      return json(200, me());
    };
    const again = useAuthStore();
    expect(again.isLoggedIn).toBe(true);
    await Promise.all([again.ensureMe(), again.ensureMe()]);
    expect(fetchMock).toHaveBeenCalledTimes(2); // the login, then one GET /me
    expect(again.isAdmin).toBe(false);
  });

  it('logs out locally even when the server cannot be reached', async () => {
    localStorage.setItem('luojia.tokens', JSON.stringify(tokens(1)));
    handler = () => {
      throw new TypeError('offline');
    };
    const auth = useAuthStore();
    await auth.logout();
    expect(auth.isLoggedIn).toBe(false);
    expect(localStorage.getItem('luojia.tokens')).toBeNull();
  });

  it('ends the session and tells the app when the refresh is refused', async () => {
    localStorage.setItem('luojia.tokens', JSON.stringify(tokens(1)));
    handler = (req) =>
      req.url.endsWith('/auth/refresh') ? problem(401, 'refresh_token_reused') : problem(401, 'token_expired');
    const auth = useAuthStore();
    const ended = vi.fn();
    auth.whenSessionEnds(ended);
    await auth.fetchMe();
    expect(ended).toHaveBeenCalledOnce();
    expect(auth.isLoggedIn).toBe(false);
    expect(auth.me).toBeNull();
  });

  it('refreshes a stale token and keeps the new pair', async () => {
    localStorage.setItem('luojia.tokens', JSON.stringify(tokens(1)));
    handler = (req) => {
      if (req.url.endsWith('/auth/refresh')) return json(200, tokens(2));
      return req.headers.get('Authorization') === 'Bearer a2' ? json(200, me()) : problem(401, 'token_expired');
    };
    const auth = useAuthStore();
    await auth.fetchMe();
    expect(auth.me?.username).toBe('xiaoming');
    expect(JSON.parse(localStorage.getItem('luojia.tokens') ?? '{}').refresh_token).toBe('r2');
  });
});
