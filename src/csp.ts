/**
 * The only policy the app runs under: nothing but our own origin, plus blob:/data: for thumbnails,
 * downloads and workers. 'wasm-unsafe-eval' lets tfjs compile its own bundled wasm; no script eval.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');
