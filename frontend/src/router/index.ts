// Routes with typed names (see `RouteNamedMap` below): `router.push({ name: 'movie', params: { id } })`
// is checked by the compiler. Every view is loaded lazily so each route ships only its own code.
import {
  createRouter,
  createWebHistory,
  type RouteRecordInfo,
  type RouteRecordRaw,
  type Router,
} from 'vue-router';
import { useAuthStore } from '@/stores/auth';
import { safeRedirect } from '@/composables/useFormErrors';

type NoParams = Record<never, never>;
type IdParam = { id: string | number };
type Info<N extends string, P extends string, Raw = NoParams> = RouteRecordInfo<
  N,
  P,
  Raw extends IdParam ? IdParam : NoParams,
  Raw extends IdParam ? { id: string } : NoParams
>;

export interface RouteNamedMap {
  home: Info<'home', '/'>;
  browse: Info<'browse', '/browse'>;
  login: Info<'login', '/login'>;
  register: Info<'register', '/register'>;
  movie: Info<'movie', '/movies/:id', IdParam>;
  watch: Info<'watch', '/watch/:id', IdParam>;
  rooms: Info<'rooms', '/rooms'>;
  room: Info<'room', '/rooms/:id', IdParam>;
  invite: RouteRecordInfo<'invite', '/r/:code', { code: string }, { code: string }>;
  friends: Info<'friends', '/friends'>;
  messages: Info<'messages', '/messages'>;
  conversation: Info<'conversation', '/messages/:id', IdParam>;
  'join-group': RouteRecordInfo<'join-group', '/g/:code', { code: string }, { code: string }>;
  'me-history': Info<'me-history', '/me/history'>;
  'me-watchlist': Info<'me-watchlist', '/me/watchlist'>;
  'me-profile': Info<'me-profile', '/me/profile'>;
  'me-account': Info<'me-account', '/me/account'>;
  admin: Info<'admin', '/admin'>;
  'admin-movie-new': Info<'admin-movie-new', '/admin/movies/new'>;
  'admin-movie-edit': Info<'admin-movie-edit', '/admin/movies/:id/edit', IdParam>;
  'not-found': RouteRecordInfo<
    'not-found',
    '/:pathMatch(.*)*',
    { pathMatch: string | string[] },
    { pathMatch: string | string[] }
  >;
}

declare module 'vue-router' {
  interface TypesConfig {
    RouteNamedMap: RouteNamedMap;
  }
  interface RouteMeta {
    /** Needs a signed-in user; others go to the login page and come back. */
    auth?: boolean;
    /** Needs an administrator; others see the 404 page. */
    admin?: boolean;
    /** For the signed-out (login, register): a signed-in user goes on to where they were headed. */
    guest?: boolean;
    /** i18n key of the page title. */
    title?: string;
  }
}

export type RouteName = keyof RouteNamedMap;

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: () => import('@/views/HomeView.vue') },
  { path: '/browse', name: 'browse', component: () => import('@/views/BrowseView.vue'), meta: { title: 'nav.browse' } },
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { guest: true, title: 'auth.login' } },
  { path: '/register', name: 'register', component: () => import('@/views/RegisterView.vue'), meta: { guest: true, title: 'auth.register' } },
  { path: '/movies/:id', name: 'movie', component: () => import('@/views/MovieView.vue') },
  { path: '/watch/:id', name: 'watch', component: () => import('@/views/WatchView.vue') },
  { path: '/rooms', name: 'rooms', component: () => import('@/views/RoomsView.vue'), meta: { auth: true, title: 'room.rooms' } },
  { path: '/rooms/:id', name: 'room', component: () => import('@/views/RoomView.vue'), meta: { auth: true, title: 'room.rooms' } },
  { path: '/r/:code', name: 'invite', component: () => import('@/views/InviteView.vue'), meta: { auth: true, title: 'room.rooms' } },
  { path: '/messages', name: 'messages', component: () => import('@/views/MessagesView.vue'), meta: { auth: true, title: 'messages.title' } },
  { path: '/messages/:id', name: 'conversation', component: () => import('@/views/MessagesView.vue'), meta: { auth: true, title: 'messages.title' } },
  { path: '/g/:code', name: 'join-group', component: () => import('@/views/JoinGroupView.vue'), meta: { auth: true, title: 'messages.joinGroup.title' } },
  { path: '/friends', name: 'friends', component: () => import('@/views/FriendsView.vue'), meta: { auth: true, title: 'friends.title' } },
  { path: '/me/history', name: 'me-history', component: () => import('@/views/me/HistoryView.vue'), meta: { auth: true, title: 'me.history' } },
  { path: '/me/watchlist', name: 'me-watchlist', component: () => import('@/views/me/WatchlistView.vue'), meta: { auth: true, title: 'me.watchlist' } },
  { path: '/me/profile', name: 'me-profile', component: () => import('@/views/me/ProfileView.vue'), meta: { auth: true, title: 'me.profile' } },
  { path: '/me/account', name: 'me-account', component: () => import('@/views/me/AccountView.vue'), meta: { auth: true, title: 'me.account' } },
  { path: '/me', redirect: { name: 'me-history' } },
  { path: '/admin', name: 'admin', component: () => import('@/views/admin/AdminMoviesView.vue'), meta: { auth: true, admin: true, title: 'admin.title' } },
  { path: '/admin/movies/new', name: 'admin-movie-new', component: () => import('@/views/admin/AdminMovieEditView.vue'), meta: { auth: true, admin: true, title: 'admin.newMovie' } },
  { path: '/admin/movies/:id/edit', name: 'admin-movie-edit', component: () => import('@/views/admin/AdminMovieEditView.vue'), meta: { auth: true, admin: true, title: 'admin.editMovie' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'), meta: { title: 'notFound.title' } },
];

export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes,
    scrollBehavior(to, from, saved) {
      if (saved) return saved;
      if (to.path === from.path) return false; // only the query changed (filters)
      return { top: 0 };
    },
  });

  router.beforeEach(async (to) => {
    const auth = useAuthStore();
    if (to.meta.auth && !auth.isLoggedIn) {
      return { name: 'login', query: { redirect: to.fullPath } };
    }
    if (to.meta.guest && auth.isLoggedIn) {
      return safeRedirect(to.query.redirect) ?? { name: 'home' };
    }
    // A profile that failed to load (the header's avatar, the admin check) is asked for again
    // (at once when the profile is loaded or nobody is signed in); only the admin check waits.
    const me = auth.ensureMe();
    if (to.meta.admin) {
      await me;
      // Not loaded (a network error): the page's own requests show the error (the server
      // refuses non-administrators anyway); a loaded non-administrator sees a 404.
      if (auth.me && !auth.isAdmin) {
        return { name: 'not-found', params: { pathMatch: to.path.slice(1).split('/') } };
      }
    }
    return true;
  });

  return router;
}
