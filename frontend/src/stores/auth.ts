// The signed-in user and their tokens. Tokens live in localStorage so a reload keeps the session;
// the API client asks this store for them (see `api/client.ts`, `SessionHooks`).
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, apiClient, unwrap, type Schemas, type TokenPair } from '@/api/client';

const STORAGE_KEY = 'luojia.tokens';

type Me = Schemas['MeResponse'];

function loadTokens(): TokenPair | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<TokenPair>;
    return parsed.access_token && parsed.refresh_token ? (parsed as TokenPair) : null;
  } catch {
    return null;
  }
}

export const useAuthStore = defineStore('auth', () => {
  const tokens = ref<TokenPair | null>(loadTokens());
  const me = ref<Me | null>(null);
  /** Set by the router: where to go when the session ends on its own. */
  let onSessionEnded: () => void = () => {};

  const isLoggedIn = computed(() => tokens.value !== null);
  const isAdmin = computed(() => me.value?.role === 'admin');
  const displayName = computed(() => me.value?.nickname || me.value?.username || '');

  function setTokens(pair: TokenPair | null) {
    tokens.value = pair;
    try {
      if (pair) localStorage.setItem(STORAGE_KEY, JSON.stringify(pair));
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      /* storage blocked: the session lasts for this tab */
    }
  }

  function clear() {
    setTokens(null);
    me.value = null;
  }

  apiClient.setSession({
    accessToken: () => tokens.value?.access_token ?? null,
    refreshToken: () => tokens.value?.refresh_token ?? null,
    saveTokens: (pair) => setTokens(pair),
    sessionEnded: () => {
      clear();
      onSessionEnded();
    },
    syncTokens: () => {
      tokens.value = loadTokens();
    },
  });

  // Another tab logged in, out, or refreshed the pair: follow it.
  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY && event.key !== null) return;
      tokens.value = loadTokens();
      if (!tokens.value) me.value = null;
    });
  }

  function whenSessionEnds(callback: () => void) {
    onSessionEnded = callback;
  }

  async function login(login: string, password: string) {
    const res = await unwrap(api.POST('/api/v1/auth/login', { body: { login, password } }));
    setTokens(res.tokens);
    me.value = res.user;
  }

  async function register(username: string, email: string, password: string) {
    const res = await unwrap(api.POST('/api/v1/auth/register', { body: { username, email, password } }));
    setTokens(res.tokens);
    me.value = res.user;
  }

  async function logout() {
    if (tokens.value) {
      // Best effort: the local session ends even when the server cannot be reached.
      await api.POST('/api/v1/auth/logout').catch(() => undefined);
    }
    clear();
  }

  /** Load the account behind stored tokens (after a reload). Missing tokens: nothing to do. */
  async function fetchMe(): Promise<Me | null> {
    if (!tokens.value) return null;
    try {
      me.value = await unwrap(api.GET('/api/v1/me'));
    } catch (e) {
      if (!tokens.value) me.value = null; // the refresh failed and ended the session
      else throw e;
    }
    return me.value;
  }

  let loading: Promise<Me | null> | null = null;
  /** `fetchMe` once per page load; the router guard awaits this. */
  function ensureMe(): Promise<Me | null> {
    if (me.value || !tokens.value) return Promise.resolve(me.value);
    loading ??= fetchMe()
      .catch(() => null)
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  async function updateProfile(body: Schemas['UpdateMeRequest']) {
    me.value = await unwrap(api.PATCH('/api/v1/me', { body }));
  }

  /** Make an upload with purpose `avatar` the avatar, or remove it (`null`). */
  async function setAvatar(uploadId: number | null) {
    me.value =
      uploadId === null
        ? await unwrap(api.DELETE('/api/v1/me/avatar'))
        : await unwrap(api.PUT('/api/v1/me/avatar', { body: { upload_id: uploadId } }));
  }

  async function changePassword(current_password: string, new_password: string) {
    await unwrap(api.PUT('/api/v1/me/password', { body: { current_password, new_password } }));
  }

  async function deleteAccount(password: string) {
    await unwrap(api.DELETE('/api/v1/me', { body: { password } }));
    clear();
  }

  return {
    tokens,
    me,
    isLoggedIn,
    isAdmin,
    displayName,
    login,
    register,
    logout,
    fetchMe,
    ensureMe,
    updateProfile,
    setAvatar,
    changePassword,
    deleteAccount,
    whenSessionEnds,
    clear,
  };
});
