// The one place that talks HTTP to the backend.
//
// - Types come from `schema.d.ts`, generated from ../openapi.yaml (`npm run gen:api`); never edit it.
// - The access token is attached to every request. On a 401 the client refreshes the token pair
//   once, shared by every caller that got a 401 meanwhile (single flight), and retries; a failed
//   refresh ends the session (the auth store logs out and the router goes to the login page).
// - `application/problem+json` bodies become an `ApiError` with the stable `code`; `errorMessage`
//   translates it through the i18n key `errors.<code>` and falls back to the server's `detail`.
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];
export type ErrorCode = Schemas['ErrorCode'];
export type TokenPair = Schemas['TokenPair'];

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'network_error' | 'unknown_error';
  readonly field: string | null;
  readonly detail: string;

  constructor(status: number, code: ApiError['code'], detail: string, field: string | null = null) {
    super(`${status} ${code}: ${detail}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.field = field;
  }

  static fromProblem(status: number, body: unknown): ApiError {
    if (body && typeof body === 'object' && 'code' in body && typeof body.code === 'string') {
      const p = body as Partial<Problem>;
      return new ApiError(status, p.code as ErrorCode, p.detail ?? p.title ?? '', p.field ?? null);
    }
    return new ApiError(status, 'unknown_error', typeof body === 'string' ? body : '');
  }
}

/** What the client needs from whoever keeps the tokens (the auth store). */
export interface SessionHooks {
  accessToken(): string | null;
  refreshToken(): string | null;
  /** A refresh succeeded: keep the new pair. */
  saveTokens(tokens: TokenPair): void;
  /** The refresh token is gone, expired or reused: the session is over. */
  sessionEnded(): void;
  /** Re-read the tokens other tabs may have saved (they share localStorage). */
  syncTokens?(): void;
}

const noSession: SessionHooks = {
  accessToken: () => null,
  refreshToken: () => null,
  saveTokens: () => {},
  sessionEnded: () => {},
};

export interface ApiClientOptions {
  baseUrl?: string;
  fetch?: (request: Request) => Promise<Response>;
}

/** Paths whose 401 means "wrong credentials", never "refresh and retry". */
const NO_REFRESH = ['/api/v1/auth/login', '/api/v1/auth/register', '/api/v1/auth/refresh', '/api/v1/auth/logout'];

async function problemCode(response: Response): Promise<string | null> {
  try {
    const body: unknown = await response.clone().json();
    return body && typeof body === 'object' && 'code' in body && typeof body.code === 'string' ? body.code : null;
  } catch {
    return null;
  }
}

export function createApiClient(options: ApiClientOptions = {}) {
  const baseUrl = options.baseUrl ?? '';
  const rawFetch = options.fetch ?? ((r: Request) => globalThis.fetch(r));
  let hooks: SessionHooks = noSession;
  let inFlight: Promise<boolean> | null = null;

  /**
   * Refresh tokens are single use and tabs share them, so a refresh runs under a Web Lock
   * across tabs and first re-reads the stored pair: when another tab has just refreshed,
   * its new pair is used instead of spending (and, as a reuse, revoking) the old token.
   */
  async function refreshFlow(): Promise<boolean> {
    const before = hooks.refreshToken();
    hooks.syncTokens?.();
    const refresh = hooks.refreshToken();
    if (!refresh) return false;
    if (refresh !== before) return true;
    let response: Response;
    try {
      response = await rawFetch(
        new Request(`${baseUrl}/api/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: refresh }),
        }),
      );
    } catch {
      return false; // offline: keep the session, the caller sees its 401
    }
    if (response.ok) {
      hooks.saveTokens((await response.json()) as TokenPair);
      return true;
    }
    if (response.status === 401 || response.status === 400) hooks.sessionEnded();
    return false;
  }

  /** One refresh at a time; everyone who asks meanwhile waits for the same answer. */
  function refreshOnce(): Promise<boolean> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    inFlight ??= (locks ? locks.request('luojia.token-refresh', refreshFlow) : refreshFlow()).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  function withToken(request: Request, token: string | null): Request {
    const r = new Request(request);
    if (token) r.headers.set('Authorization', `Bearer ${token}`);
    return r;
  }

  async function authFetch(request: Request): Promise<Response> {
    const retryCopy = request.clone();
    const sentWith = hooks.accessToken();
    const response = await rawFetch(withToken(request, sentWith));
    const path = new URL(request.url, 'http://x').pathname;
    if (response.status !== 401 || !sentWith || NO_REFRESH.includes(path)) return response;
    // A wrong password (deleting the account, changing the password) is not an expired token.
    if ((await problemCode(response)) === 'invalid_credentials') return response;
    // Somebody else may have refreshed while this request was out: then just retry.
    const current = hooks.accessToken();
    const fresh = current !== sentWith ? true : await refreshOnce();
    if (!fresh) return response;
    return rawFetch(withToken(retryCopy, hooks.accessToken()));
  }

  const client = createClient<paths>({ baseUrl, fetch: authFetch });
  return {
    client,
    /** `fetch` with the token and refresh logic, for requests outside the typed client. */
    authFetch,
    refreshOnce,
    /** The current access token, for requests the typed client cannot make (uploads with progress). */
    accessToken: () => hooks.accessToken(),
    setSession(h: SessionHooks) {
      hooks = h;
    },
  };
}

export const apiClient = createApiClient();
/** The typed client: `api.GET('/api/v1/movies', { params: { query: { sort: 'newest' } } })`. */
export const api = apiClient.client;

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Await an openapi-fetch call and return its data, or throw an `ApiError`.
 * `const movie = await unwrap(api.GET('/api/v1/movies/{id}', { params: { path: { id } } }))`
 */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, 'network_error', e instanceof Error ? e.message : String(e));
  }
  if (!result.response.ok) throw ApiError.fromProblem(result.response.status, result.error);
  return result.data as T;
}

/** Translate any error for the user: `errors.<code>` when known, else the server's detail. */
export function errorMessage(
  error: unknown,
  t: (key: string) => string,
  te: (key: string) => boolean,
): string {
  if (error instanceof ApiError) {
    const key = `errors.${error.code}`;
    if (te(key)) return t(key);
    return error.detail || t('errors.unknown_error');
  }
  return t('errors.unknown_error');
}
