// otel-business-metrics must stay one module instance for the whole server: instrumentation.ts initialises it, and
// route handlers (bundled separately) record into it. Next.js bundles packages by default, which would give each
// bundle its own copy; serverExternalPackages makes it a plain require of node_modules, shared by all.
/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['otel-business-metrics'],
};

export default nextConfig;
