import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

// Vitest 3 runs on its own Vite 7 while the app builds with Vite 8; the Vue plugin works with
// both, only their plugin types differ, hence the cast.
const plugins = [vue()] as unknown as NonNullable<ViteUserConfig['plugins']>;

export default defineConfig({
  plugins,
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  test: {
    environment: 'happy-dom',
    environmentOptions: { happyDOM: { url: 'http://localhost:5173/' } },
    include: ['src/**/*.spec.ts'],
    // CI has two cores shared with the Rust build; the property tests need headroom.
    testTimeout: 20_000,
  },
});
