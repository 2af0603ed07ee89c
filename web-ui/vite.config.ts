import { defineConfig } from 'vite';

// Built with `vite build web-ui`; the JobManager serves dist/ at `/`, next to its REST API.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No external hosts: everything the page needs ships in dist/.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `vite web-ui` against a JobManager on its default port.
    proxy: Object.fromEntries(
      [
        '/overview',
        '/config',
        '/taskmanagers',
        '/jobs',
        '/jars',
        '/jobmanager',
        '/savepoint-disposal',
        '/deployments',
      ].map((p) => [p, 'http://127.0.0.1:8081']),
    ),
  },
});
