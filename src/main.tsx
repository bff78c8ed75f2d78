import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './ui/i18n';
import { App } from './ui/App';
import { installAutomation } from './ui/automation';
import './ui/app.css';

// ?automation=1: the API the benchmark, the headless runner and the tests drive (src/ui/automation.ts).
if (new URLSearchParams(location.search).get('automation') === '1') installAutomation();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
