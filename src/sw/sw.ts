// The lab's service worker (built to dist/sw.js by the plugin in vite.config.ts; never in dev).
// Two jobs, so the lab runs at full speed from any static host and offline after one visit:
//
// 1. Cross-origin isolation where the server sends no headers (the "coi-serviceworker" technique,
//    written for the lab): every response it serves gets Cross-Origin-Opener-Policy: same-origin,
//    Cross-Origin-Embedder-Policy: require-corp and the Content-Security-Policy, unless the server
//    sent them. Isolation gives the lab CPU engine SharedArrayBuffer, so it trains on every core.
// 2. The app offline: install caches every file of this build (PRECACHE) under a cache named for
//    this build (VERSION), and pages and their files are served from it first.
// 3. Updates that never mix builds. A new build's worker installs, takes over at once (skipWaiting
//    and clients.claim), and serves every new page from its own cache. A page that is already
//    open stays on the build it loaded: its files all have content hashes in their names, so any
//    file it still asks for (a lazy chunk, the engine's worker or WebAssembly) is found in the
//    previous build's cache, which is kept until no page opened before the takeover is left. The
//    page says an update is ready (src/ui/serviceWorker.ts) and reloads when asked.
//    (The other way, a new worker that *waits* until the page tells it to skip waiting, was tried
//    first: Chromium held its activation back while the page was open, and the page's reload then
//    hung on a navigation queued behind the activation, about one time in two in e2e.)
// The CIFAR-10 files are not here: the decoded data lives in IndexedDB (src/storage/runsDb.ts), so
// requests for them (and anything else outside the build) pass through untouched.

/** Filled in at build time (vite.config.ts): a hash of this build's files, and their paths relative to the scope. */
declare const __LAB_SW_VERSION__: string;
declare const __LAB_SW_PRECACHE__: string[];
declare const __LAB_SW_CSP__: string;

// The service-worker types (the "webworker" lib clashes with the page's DOM lib in one project).
interface SwExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SwFetchEvent extends SwExtendableEvent {
  request: Request;
  respondWith(r: Promise<Response> | Response): void;
}
interface SwScope {
  registration: { scope: string };
  clients: { claim(): Promise<void>; matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<{ id: string }[]> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', f: (e: SwExtendableEvent) => void): void;
  addEventListener(type: 'fetch', f: (e: SwFetchEvent) => void): void;
}
const sw = self as unknown as SwScope;

const PREFIX = 'degradation-lab-';
const CACHE = `${PREFIX}${__LAB_SW_VERSION__}`;
const SCOPE = new URL(sw.registration.scope);
const INDEX = new URL('index.html', SCOPE).href;
const PRECACHED = new Set(__LAB_SW_PRECACHE__.map((p) => new URL(p, SCOPE).href));

/** Where this worker notes the pages that were open when it took over (they use older caches). */
const OPEN_BEFORE = new URL('__lab-sw/open-before.json', SCOPE).href;

sw.addEventListener('install', (event) => {
  // cache: 'reload' skips the HTTP cache, so the files are this build's, not a stale copy
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([...PRECACHED].map((url) => new Request(url, { cache: 'reload' }))))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // the pages open now were loaded by an older build: note them, and keep the caches they use
      const open = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const cache = await caches.open(CACHE);
      await cache.put(OPEN_BEFORE, new Response(JSON.stringify(open.map((c) => c.id))));
      // older builds than the one before: nothing can still use them
      const older = (await caches.keys()).filter((k) => k.startsWith(PREFIX) && k !== CACHE);
      await Promise.all(older.slice(0, -1).map((k) => caches.delete(k)));
      await sw.clients.claim();
      olderCachesMayRemain = true;
      await dropOldCaches();
    })(),
  );
});

let olderCachesMayRemain = true;

/** The older builds' caches, once no page opened before the takeover is left. */
async function dropOldCaches(): Promise<void> {
  const cache = await caches.open(CACHE);
  const note = await cache.match(OPEN_BEFORE);
  if (!note) return void (olderCachesMayRemain = false);
  const before = new Set(JSON.parse(await note.text()) as string[]);
  const open = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (open.some((c) => before.has(c.id))) return;
  const older = (await caches.keys()).filter((k) => k.startsWith(PREFIX) && k !== CACHE);
  await Promise.all(older.map((k) => caches.delete(k)));
  await cache.delete(OPEN_BEFORE);
  olderCachesMayRemain = false;
}

/**
 * The response with the isolation headers and the CSP added where the server did not send them.
 * The body is read whole first (the largest file is a few MB): a body streamed through the worker
 * keeps its fetch event pending while the page reads it, and a pending event holds back the
 * activation of a waiting update.
 */
async function isolated(res: Response): Promise<Response> {
  if (res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  const headers = new Headers(res.headers);
  if (!headers.has('Cross-Origin-Opener-Policy')) headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  if (!headers.has('Cross-Origin-Embedder-Policy')) headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  if (!headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', __LAB_SW_CSP__);
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers });
}

async function fromCache(url: string): Promise<Response | undefined> {
  const cache = await caches.open(CACHE);
  return cache.match(url);
}

/** A file of an older build that a page opened before the takeover still asks for. */
async function fromOlderCache(url: string): Promise<Response | undefined> {
  for (const k of (await caches.keys()).filter((k) => k.startsWith(PREFIX) && k !== CACHE).reverse()) {
    const hit = await (await caches.open(k)).match(url);
    if (hit) return hit;
  }
  return undefined;
}

sw.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return;
  if (req.mode === 'navigate') {
    // a page of the lab (any query: ?preset=…): this build's index.html, else the network, else nothing to offer
    const inScope = url.pathname === SCOPE.pathname || url.href.split('?')[0] === INDEX;
    event.waitUntil(dropOldCaches());
    event.respondWith(
      (async () => {
        const cached = inScope ? await fromCache(INDEX) : undefined;
        if (cached) return isolated(cached);
        return isolated(await fetch(req));
      })(),
    );
    return;
  }
  const href = url.href.split('#')[0];
  if (!PRECACHED.has(href)) {
    // an older build's file, for a page opened before the takeover; data files and anything else: untouched
    if (!url.pathname.startsWith(`${SCOPE.pathname}assets/`)) return;
    event.respondWith(
      (async () => {
        const older = await fromOlderCache(href);
        return isolated(older ?? (await fetch(req)));
      })(),
    );
    return;
  }
  if (olderCachesMayRemain) event.waitUntil(dropOldCaches());
  event.respondWith(
    (async () => {
      const cached = await fromCache(href);
      return isolated(cached ?? (await fetch(req)));
    })(),
  );
});
