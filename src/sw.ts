/**
 * The service worker: after the first visit the app works with no network at all. On install it
 * stores every file of the build (app shell, workers, wasm, the model, the sample) in one cache
 * named after the build; afterwards every same-origin GET is answered from that cache first. It
 * never contacts another origin and never caches anything the build did not list, so it cannot
 * widen what the Content-Security-Policy allows.
 *
 * Built by the `winnow-service-worker` plugin in vite.config.ts to /sw.js; the plugin replaces
 * __WINNOW_PRECACHE__ with the build's file list once every file of the build is written.
 */

/** Written by the build: a hash of every precached file's name and bytes, and their paths relative to the scope ('' is the app shell). */
declare const __WINNOW_PRECACHE__: { version: string; files: string[] };

// lib.dom has no service-worker types, and lib.webworker cannot be loaded beside it in one program.
interface SwExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface SwFetchEvent extends SwExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface SwGlobal {
  readonly registration: ServiceWorkerRegistration;
  addEventListener(type: 'install' | 'activate', listener: (event: SwExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: SwFetchEvent) => void): void;
}

const sw = self as unknown as SwGlobal;
const PRECACHE = __WINNOW_PRECACHE__;
const CACHE_PREFIX = 'winnow-';
const CACHE = `${CACHE_PREFIX}${PRECACHE.version}`;
const scope = new URL(sw.registration.scope);
const shell = scope.href;

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // 'reload': straight from the server, never a stale copy from the HTTP cache under a new build's name.
      await cache.addAll(PRECACHE.files.map((file) => new Request(new URL(file, scope), { cache: 'reload' })));
    })(),
  );
});

// No skipWaiting and no clients.claim(): a page keeps the build it was loaded with (its workers and
// lazily loaded chunks must come from the same build), and a new build takes over when no tab of
// the old one is left open.
sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      }
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin) return;
  event.respondWith(answer(request, url));
});

/** The app shell for any navigation to the app's page, whatever its query (?sample=1, presets). */
function isShell(request: Request, url: URL): boolean {
  return request.mode === 'navigate' && (url.pathname === scope.pathname || url.pathname === `${scope.pathname}index.html`);
}

async function answer(request: Request, url: URL): Promise<Response> {
  const cache = await caches.open(CACHE);
  // ignoreVary: the cached copy was fetched by the worker, whose request headers differ from a page's.
  const hit = await cache.match(isShell(request, url) ? shell : request, { ignoreVary: true });
  return hit ?? fetch(request);
}
