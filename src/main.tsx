import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './ui/i18n';
import { App } from './ui/App';
import { injectFault } from './ui/labController';
import './ui/app.css';

// ?debug=1 exposes fault injection, so a test (or a curious teacher) can see a lost GPU handled.
if (new URLSearchParams(location.search).get('debug') === '1') {
  (window as unknown as { labDebug: unknown }).labDebug = { injectFault };
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
