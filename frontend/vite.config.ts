import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// `npm run dev` proxies everything the backend owns to a running `luojia serve`
// (default http://127.0.0.1:8080; override with LUOJIA_BACKEND).
const backend = process.env.LUOJIA_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: {
      '/api': backend,
      '/hls': backend,
      '/static': backend,
      '/docs': backend,
      '/ws': { target: backend, ws: true },
    },
  },
  build: {
    target: 'es2022',
    // Hashed file names under /assets: the backend and nginx serve them as immutable.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 900,
    // dist/.vite/manifest.json: which chunks each route loads (scripts/bundle-report.mjs).
    manifest: true,
  },
});
