// The page's side of the service worker (src/sw/sw.ts), production builds only:
// - registers it, so the app is cached for offline classrooms;
// - on a server that sends no COOP/COEP headers (GitHub Pages, most school servers), reloads once
//   when the worker controls the page, so the worker's headers make the page cross-origin isolated
//   and the lab CPU engine trains on every core (one reload per tab session, never a loop);
// - says when a new version has taken over (the worker does so at once, and this page stays on the
//   files it loaded: src/sw/sw.ts), and reloads onto it when asked.
// Where service workers are blocked or missing the lab runs as before, uncached.
import { useLab } from './store';

const RELOADED = 'degradation-lab-isolation-reload';
/** Whether the page reloads now (for isolation): then the app should not start. */
export async function setUpServiceWorker(opts: { base: string; wait?: number }): Promise<boolean> {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return false;
  try {
    await navigator.serviceWorker.register(`${opts.base}sw.js`, { scope: opts.base });
  } catch (err) {
    console.warn(`the service worker could not start (${err instanceof Error ? err.message : String(err)}): the lab runs uncached`);
    return false;
  }
  watchForUpdates();
  if (window.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return false;
  }
  if (sessionStorage.getItem(RELOADED)) return false; // reloaded once already, and still not isolated: run as we are
  const controlled = navigator.serviceWorker.controller !== null || (await controllerWithin(opts.wait ?? 10_000));
  if (!controlled) return false;
  sessionStorage.setItem(RELOADED, '1');
  location.reload();
  return true;
}

function controllerWithin(ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
}

/**
 * A new worker taking over a page that another worker controlled is a new build: say so. (The
 * first worker of a page that had none is not: that is the first visit.)
 */
function watchForUpdates(): void {
  let controlled = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (controlled) useLab.setState({ updateReady: true });
    controlled = true;
  });
}

/** Open the new build: a reload, which the new worker serves. */
export function applyUpdate(): void {
  location.reload();
}
