import { mount } from 'svelte';
import App from './ui/app.svelte';
import './ui/app.css';

mount(App, { target: document.getElementById('app')! });

// Offline after the first visit (src/sw.ts). Not under `vite dev`, where a cached copy would hide
// every edit. After load, so that precaching never competes with the page's own first requests.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  addEventListener('load', () => {
    navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((error: unknown) => {
      console.warn('Winnow will not work offline: the service worker could not be registered.', error);
    });
  });
}
