import { defineConfig } from 'vite';

/**
 * The console's build, run by `npm run build` (so by `npm start` and `npm test` too): a static
 * page and hashed assets in dist/console, served by the API process at /console
 * (apps/api/src/console/serve-console.ts). No plugins: Vite's own transform compiles TSX for Preact.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  clearScreen: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // Every asset a file of its own: the page's policy allows no data: URLs (img-src 'self').
    assetsInlineLimit: 0,
    // Browsers of es2022 support modulepreload; the polyfill would be one more script to trust.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
