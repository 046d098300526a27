import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient, errorMessage, unwrap, type TokenPair } from './client';

const pair = (n: number): TokenPair => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: 'Bearer',
  expires_in: 900,
  refresh_expires_at: '2030-01-01T00:00:00Z',
});

const json = (status: number, body: unknown, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });

const problem = (status: number, code: string, field?: string) =>
  json(status, { type: 'about:blank', title: 'x', status, detail: `detail of ${code}`, code, field }, 'application/problem+json');

/** A fake backend: `access-N` is valid only for the current N; refresh-N gives N+1 once. */
function fakeServer() {
  let current = 1;
  let refreshes = 0;
  const seen: string[] = [];
  const fetch = vi.fn(async (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path === '/api/v1/auth/refresh') {
      refreshes += 1;
      const body = (await req.json()) as { refresh_token: string };
      if (body.refresh_token !== `refresh-${current}`) return problem(401, 'refresh_token_reused');
      await new Promise((r) => setTimeout(r, 20));
      current += 1;
      return json(200, pair(current));
    }
    const auth = req.headers.get('Authorization');
    seen.push(`${req.method} ${path} ${auth ?? '-'}`);
    if (auth !== `Bearer access-${current}`) return problem(401, 'token_expired');
    if (req.method === 'PATCH') return json(200, await req.json());
    return json(200, { id: 1, username: 'xiaoming' });
  });
  return {
    fetch,
    seen,
    expire: () => (current += 100),
    setCurrent: (n: number) => (current = n),
    get refreshes() {
      return refreshes;
    },
    get current() {
      return current;
    },
  };
}

function setup(tokens: TokenPair | null = pair(1)) {
  const server = fakeServer();
  const { client, setSession } = createApiClient({ baseUrl: 'http://api.test', fetch: server.fetch });
  const state = { tokens, ended: 0 };
  setSession({
    accessToken: () => state.tokens?.access_token ?? null,
    refreshToken: () => state.tokens?.refresh_token ?? null,
    saveTokens: (p) => (state.tokens = p),
    sessionEnded: () => {
      state.tokens = null;
      state.ended += 1;
    },
  });
  return { server, client, state };
}

/** `setup` plus a fake localStorage shared with another tab. */
function setupWithStorage() {
  const server = fakeServer();
  const { client, setSession } = createApiClient({ baseUrl: 'http://api.test', fetch: server.fetch });
  const storage: { saved: TokenPair | null } = { saved: pair(1) };
  const state = { tokens: storage.saved as TokenPair | null, ended: 0 };
  setSession({
    accessToken: () => state.tokens?.access_token ?? null,
    refreshToken: () => state.tokens?.refresh_token ?? null,
    saveTokens: (p) => (state.tokens = storage.saved = p),
    sessionEnded: () => {
      state.tokens = null;
      state.ended += 1;
    },
    syncTokens: () => (state.tokens = storage.saved),
  });
  return { server, client, state, storage };
}

describe('api client', () => {
  it('attaches the access token', async () => {
    const { client, server } = setup();
    const me = await unwrap(client.GET('/api/v1/me'));
    expect(me.username).toBe('xiaoming');
    expect(server.seen).toEqual(['GET /api/v1/me Bearer access-1']);
  });

  it('refreshes once for two concurrent 401s, then retries both', async () => {
    const { client, server, state } = setup();
    server.fetch.mockClear();
    // The server moved on to token 2 only through a refresh: make access-1 stale without one.
    const stale = pair(0);
    state.tokens = { ...stale, refresh_token: 'refresh-1' };
    const [a, b] = await Promise.all([
      unwrap(client.GET('/api/v1/me')),
      unwrap(client.PATCH('/api/v1/me', { body: { nickname: '小明' } })),
    ]);
    expect(server.refreshes).toBe(1);
    expect(a.username).toBe('xiaoming');
    expect(b).toEqual({ nickname: '小明' }); // the retried request still had its body
    expect(state.tokens?.access_token).toBe('access-2');
    expect(state.ended).toBe(0);
  });

  it("uses another tab's fresh pair instead of spending the old refresh token", async () => {
    const { client, server, state, storage } = setupWithStorage();
    // Tab B (this client) still holds pair 1; tab A refreshed to pair 2 and stored it.
    storage.saved = pair(2);
    server.setCurrent(2);
    const me = await unwrap(client.GET('/api/v1/me'));
    expect(me.username).toBe('xiaoming');
    expect(server.refreshes).toBe(0);
    expect(state.tokens?.access_token).toBe('access-2');
    expect(state.ended).toBe(0);
  });

  it('ends the session when the refresh is refused', async () => {
    const { client, server, state } = setup();
    server.expire();
    const error = await unwrap(client.GET('/api/v1/me')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(server.refreshes).toBe(1);
    expect(state.ended).toBe(1);
    expect(state.tokens).toBeNull();
  });

  it('does not refresh for a failed login', async () => {
    const { client, server } = setup(null);
    server.fetch.mockImplementationOnce(async () => problem(401, 'invalid_credentials'));
    const error = (await unwrap(client.POST('/api/v1/auth/login', { body: { login: 'a', password: 'b' } })).catch(
      (e: unknown) => e,
    )) as ApiError;
    expect(error.code).toBe('invalid_credentials');
    expect(server.refreshes).toBe(0);
  });

  it('does not refresh for a wrong password on an authenticated call', async () => {
    const { client, server, state } = setup();
    server.fetch.mockImplementationOnce(async () => problem(401, 'invalid_credentials'));
    const error = (await unwrap(client.DELETE('/api/v1/me', { body: { password: 'wrong' } })).catch(
      (e: unknown) => e,
    )) as ApiError;
    expect(error.code).toBe('invalid_credentials');
    expect(server.refreshes).toBe(0);
    expect(state.tokens?.access_token).toBe('access-1');
  });

  it('turns problem+json into a translated ApiError with its field', async () => {
    const { client, server } = setup(null);
    server.fetch.mockImplementationOnce(async () => problem(409, 'username_taken', 'username'));
    const error = (await unwrap(
      client.POST('/api/v1/auth/register', { body: { username: 'a', email: 'b', password: 'c' } }),
    ).catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 409, code: 'username_taken', field: 'username' });
    const t = (k: string) => `T(${k})`;
    expect(errorMessage(error, t, () => true)).toBe('T(errors.username_taken)');
    expect(errorMessage(error, t, () => false)).toBe('detail of username_taken');
  });

  it('reports network failures as network_error', async () => {
    const { client, server } = setup();
    server.fetch.mockImplementationOnce(async () => {
      throw new TypeError('Failed to fetch');
    });
    const error = (await unwrap(client.GET('/api/v1/me')).catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe('network_error');
  });
});
