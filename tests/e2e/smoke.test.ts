/**
 * Smoke test of the built app and of the harness itself: the page loads under a CSP that keeps every
 * request on its own origin, the network guard sees nothing leave, the guard provably catches what
 * would leave, and a real folder drop starts and finishes a run.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, waitForRunState, type Harness } from '../support/browser.ts';
import { dropFolder } from '../support/drop.ts';
import { copyNeardup, removeTempDirs, tempDir } from '../support/fixtures.ts';

const baseURL = inject('baseURL');

/** Directive name → source list. Names are case-insensitive; the first of a repeated directive wins (CSP3). */
function parseCsp(header: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/).filter(Boolean);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** Sources that name no other origin: quoted keywords, nonces and hashes, and the schemes blob: and data:. */
function namesNoOtherOrigin(source: string): boolean {
  return /^'[a-z-]+'$/i.test(source) || /^'(nonce|sha256|sha384|sha512)-[\w+/=-]+'$/.test(source) || source === 'blob:' || source === 'data:';
}

describe('smoke', () => {
  let h: Harness;
  let csp: string | undefined;

  beforeAll(async () => {
    h = await launchBrowser();
    const response = await h.page.goto(baseURL, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    csp = response?.headers()['content-security-policy'];
  });

  afterAll(async () => {
    await h?.close();
    await removeTempDirs();
  });

  it('loads idle, under a CSP whose default-src is self and which names no other origin', async () => {
    expect(await waitForRunState(h.page, ['idle'], 30_000)).toBe('idle');

    expect(csp, 'the document response carries a Content-Security-Policy header').toBeTruthy();
    const policy = parseCsp(csp!);
    expect(policy.get('default-src')).toEqual(["'self'"]);
    for (const [name, sources] of policy) {
      for (const source of sources) {
        expect(namesNoOtherOrigin(source), `${name} ${source} names another origin`).toBe(true);
      }
    }
    // connect-src governs fetch/XHR/WebSocket, the ways data could leave: it must not widen to '*' or a scheme.
    const connect = policy.get('connect-src') ?? policy.get('default-src')!;
    expect(connect.every(namesNoOtherOrigin)).toBe(true);
  });

  it('made no off-origin request, opened no socket and threw nothing while loading', async () => {
    await h.page.waitForLoadState('networkidle');
    expect(h.offOrigin).toEqual([]);
    expect(h.websockets).toEqual([]);
    expect(h.pageErrors).toEqual([]);
    expect(h.consoleErrors).toEqual([]);
  });

  it('blocks an injected off-origin fetch by CSP, and the guard catches it where CSP is bypassed', async () => {
    // 1. In the app page the CSP refuses the request before it reaches the network.
    const result = await h.page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
      let rejected = false;
      try {
        await fetch('https://example.com/x');
      } catch {
        rejected = true;
      }
      await new Promise((r) => setTimeout(r, 100)); // the violation event is dispatched as a task
      return { rejected, violations };
    });
    expect(result.rejected).toBe(true);
    expect(result.violations.some((v) => v.startsWith('connect-src') && v.includes('example.com'))).toBe(true);
    // CSP stopped it before the network layer, so the guard never saw it.
    expect(h.offOrigin).toEqual([]);
    h.consoleErrors.length = 0; // the CSP refusal is logged as a console error on purpose

    // 2. Without CSP, the guard alone must abort and record requests from the page and from a worker.
    const open = await launchBrowser({ bypassCSP: true });
    try {
      await open.page.goto(baseURL);
      const outcome = await open.page.evaluate(async () => {
        const fromPage = await fetch('https://example.com/x').then(
          () => 'sent',
          () => 'rejected',
        );
        const source = `fetch('https://example.com/from-worker').then(() => postMessage('sent'), () => postMessage('rejected'));`;
        const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
        const fromWorker = await new Promise<string>((resolve) => {
          worker.onmessage = (e) => resolve(String(e.data));
          worker.onerror = (e) => resolve(`worker error: ${e.message}`);
        });
        worker.terminate();
        return { fromPage, fromWorker };
      });
      expect(outcome).toEqual({ fromPage: 'rejected', fromWorker: 'rejected' });
      expect(open.offOrigin).toContain('https://example.com/x');
      expect(open.offOrigin).toContain('https://example.com/from-worker');
    } finally {
      await open.close();
    }
  });

  // Depends on the app's UI: the drop zone, and a run that ends in `done` on five real photos.
  it('a real folder drop on the drop zone starts a run that finishes', async () => {
    const dir = await tempDir();
    await copyNeardup(dir, ['g000_orig.jpg', 'g000_exact_copy.jpg', 'g000_resize50.jpg', 'g002_orig.jpg', 'g100_distractor.jpg']);

    await dropFolder(h.page, '[data-testid=drop-zone]', dir);
    // On a timeout, say what the page threw: that is usually why the run never started.
    const explain = (error: Error) => {
      throw new Error(`${error.message}\npage errors: ${JSON.stringify(h.pageErrors)}\nconsole errors: ${JSON.stringify(h.consoleErrors)}`);
    };
    expect(['running', 'done']).toContain(await waitForRunState(h.page, ['running', 'done', 'error'], 30_000).catch(explain));
    expect(await waitForRunState(h.page, ['done', 'error'], 180_000).catch(explain)).toBe('done');

    expect(h.offOrigin).toEqual([]);
    expect(h.pageErrors).toEqual([]);
  });
});
