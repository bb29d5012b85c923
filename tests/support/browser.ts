/**
 * Launches the system Chromium through playwright-core with a network guard: every request the page
 * or its workers make is let through only when it stays on the app's origin (or is `blob:`/`data:`);
 * anything else is aborted and recorded in `offOrigin`, so a test can assert that nothing left the tab.
 */
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';

/** Flags known to work headless on these machines (see ../shared/TESTING.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // try the next one
    }
  }
  throw new Error(`No Chromium found (tried ${candidates.join(', ')}); run: node tests/support/ensure-chromium.mjs`);
}

export interface LaunchOptions {
  /** Profile folder; reuse it to see IndexedDB survive a browser restart. Default: a fresh temp folder, removed on close(). */
  userDataDir?: string;
  headless?: true;
  /** The one origin requests may go to. Default: the origin of `inject('baseURL')`. */
  baseURL?: string;
  /** Playwright's bypassCSP, only for tests that prove the guard itself catches what CSP would block. */
  bypassCSP?: boolean;
}

export interface Harness {
  context: BrowserContext;
  /** The context's first page (a persistent context opens one). */
  page: Page;
  userDataDir: string;
  /** The app's origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  /** Every URL that was not on the origin, `blob:` or `data:` — aborted, never sent. */
  offOrigin: string[];
  /** URLs of every WebSocket opened (off-origin ones are refused and also listed in offOrigin). */
  websockets: string[];
  /** Uncaught exceptions in any page of the context (`pageerror`), as `message` lines. */
  pageErrors: string[];
  /** console.error / console.assert output from pages and their workers. */
  consoleErrors: string[];
  /** Closes the browser; removes the profile folder too if launchBrowser made it. */
  close(): Promise<void>;
  /** Closes the browser, keeping the profile, and launches a new one on the same userDataDir. */
  reopen(): Promise<Harness>;
}

async function defaultBaseURL(): Promise<string> {
  try {
    // Imported lazily so that the harness also loads in a plain Node script outside vitest.
    const { inject } = await import('vitest');
    return inject('baseURL');
  } catch {
    throw new Error('launchBrowser: no baseURL given and none provided by the e2e globalSetup');
  }
}

/** True for the URLs the guard lets through. */
export function isAllowedURL(url: string, origin: string): boolean {
  if (url.startsWith('blob:') || url.startsWith('data:')) return true;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<Harness> {
  const origin = new URL(opts.baseURL ?? (await defaultBaseURL())).origin;
  const ownsDir = !opts.userDataDir;
  const userDataDir = opts.userDataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'winnow-profile-')));
  return launchInto(userDataDir, ownsDir, origin, opts);
}

async function launchInto(userDataDir: string, ownsDir: boolean, origin: string, opts: LaunchOptions): Promise<Harness> {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    bypassCSP: opts.bypassCSP ?? false,
  });

  const offOrigin: string[] = [];
  const websockets: string[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const seen = new WeakSet<Request>();

  // The guard proper: context-level routes see requests from pages *and* their dedicated workers.
  await context.route('**/*', async (route) => {
    const request = route.request();
    const url = request.url();
    if (isAllowedURL(url, origin)) return route.continue();
    seen.add(request);
    offOrigin.push(url);
    return route.abort('blockedbyclient');
  });
  // Second line: any request the routes did not see (should be none) is still recorded.
  context.on('request', (request) => {
    if (!seen.has(request) && !isAllowedURL(request.url(), origin)) {
      seen.add(request);
      offOrigin.push(request.url());
    }
  });
  // WebSockets bypass context.route; refuse off-origin ones without connecting, pass same-origin through.
  await context.routeWebSocket(/.*/, (ws) => {
    const url = ws.url();
    websockets.push(url);
    const httpish = url.replace(/^ws/, 'http');
    if (isAllowedURL(httpish, origin)) {
      ws.connectToServer();
    } else {
      offOrigin.push(url);
      void ws.close({ code: 1008, reason: 'blocked by test network guard' });
    }
  });

  const watch = (page: Page) => {
    page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'assert') consoleErrors.push(msg.text());
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);

  const page = context.pages()[0] ?? (await context.newPage());

  let closed = false;
  const shutdown = async (removeProfile: boolean) => {
    if (!closed) {
      closed = true;
      await context.close();
    }
    if (removeProfile) await rm(userDataDir, { recursive: true, force: true });
  };

  return {
    context,
    page,
    userDataDir,
    origin,
    offOrigin,
    websockets,
    pageErrors,
    consoleErrors,
    close: () => shutdown(ownsDir),
    reopen: async () => {
      await shutdown(false);
      return launchInto(userDataDir, ownsDir, origin, opts);
    },
  };
}

/** Resolves with the run-state text once it is one of `states` (the contract: idle, running, done, error). */
export async function waitForRunState(page: Page, states: string[], timeoutMs = 120_000): Promise<string> {
  const handle = await page.waitForFunction(
    (wanted) => {
      for (const el of document.querySelectorAll('[data-testid=run-state]')) {
        const text = el.textContent?.trim() ?? '';
        if (wanted.includes(text)) return text;
      }
      return false;
    },
    states,
    { timeout: timeoutMs, polling: 50 },
  );
  return (await handle.jsonValue()) as string;
}
