import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Flask serves dist/index.html at "/" (history fallback) and the bundle under /assets/.
// In development, `npm run dev` proxies /api to the Flask server (HMS_API_URL, default http://127.0.0.1:5000).
export default defineConfig({
  base: '/',
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: process.env.HMS_API_URL || 'http://127.0.0.1:5000', changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
  },
  // Unit tests of the shared composables and components (`npm test`, run by `make test`); pages are covered by the
  // browser tests in tests/browser.
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.spec.js'],
  },
})
