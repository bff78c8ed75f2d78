import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './ui/i18n';
import { App } from './ui/App';
import { installAutomation } from './ui/automation';
import './ui/app.css';
import { setUpServiceWorker } from './ui/serviceWorker';

// ?automation=1: the API the benchmark, the headless runner and the tests drive (src/ui/automation.ts).
if (new URLSearchParams(location.search).get('automation') === '1') installAutomation();

function boot(): void {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

// Production: the service worker (offline app; cross-origin isolation where the server sends no
// headers). A page that is not isolated waits for it and reloads once, rather than start the lab twice.
if (import.meta.env.PROD) {
  const pending = setUpServiceWorker({ base: import.meta.env.BASE_URL });
  if (window.crossOriginIsolated) boot();
  else void pending.then((reloading) => reloading || boot());
} else boot();
