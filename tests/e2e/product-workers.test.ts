/**
 * The cluster worker's helper workers (src/workers/cluster/products.worker.ts), for real: the
 * built app's cluster worker in Chromium starts a nested worker that computes a share of the matrix
 * products on wasm, and the clustering is the one the worker makes alone, cut for cut; and both
 * equal the exact float64 path wherever the fast path says it is exact.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, type Harness } from '../support/browser.ts';
import { distDir } from '../support/paths.ts';
import { builtWorkerPath, WORKER_CALL } from '../support/worker-call.ts';
import { blobs } from '../unit/cluster/support.ts';

const baseURL = inject('baseURL');

interface Loaded {
  load: { distances: string; exactFromK: Record<string, number>; products?: { helpers: number; blocks: number; byHelpers: number } };
  cuts: Record<string, unknown>[];
}

const KEEPS = [0.95, 0.8, 0.6];

describe('product helper workers', () => {
  let h: Harness;
  let workerPath: string;
  const n = 1500;
  const d = 48;
  const X = Array.from(blobs(31, n, d, 60));

  beforeAll(async () => {
    h = await launchBrowser();
    await h.page.goto(baseURL, { waitUntil: 'load' });
    workerPath = builtWorkerPath(distDir, 'cluster')!;
    expect(workerPath, 'dist/ has no cluster worker').toBeDefined();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** One load on a fresh cluster worker (input extras merged in), then one cut per keep fraction. */
  async function run(extra: Record<string, unknown>): Promise<Loaded> {
    return (await h.page.evaluate(
      `(async () => {
        const worker = new Worker(${JSON.stringify(workerPath)}, { type: 'module' });
        try {
          const vectors = Float32Array.from(${JSON.stringify(X)});
          const ids = Array.from({ length: ${n} }, (_, i) => i + 1);
          const input = Object.assign({ dim: ${d}, classes: [{ label: 'blobs', ids, vectors }] }, ${JSON.stringify(extra)});
          const load = await ${WORKER_CALL}(worker, 'load', [input, undefined], [vectors.buffer]);
          const cuts = [];
          for (const keep of ${JSON.stringify(KEEPS)}) {
            const cut = await ${WORKER_CALL}(worker, 'cut', [{ keep }], []);
            delete cut.ms;
            cuts.push(cut);
          }
          return { load, cuts };
        } finally {
          worker.terminate();
        }
      })()`,
    )) as Loaded;
  }

  it('a helper computes part of the products and changes nothing in the result', async () => {
    // Many small blocks, each followed by a turn of the worker's event loop (≥ 4 ms once timers
    // nest), keep the products going for about a second: the helper, whose module and wasm the
    // first load put in the browser's caches, joins well before they end.
    const input = { fast: true, backend: 'wasm', blockRows: 8 };
    await run({ ...input, productWorkers: 1 });
    const shared = await run({ ...input, productWorkers: 1 });
    const alone = await run({ ...input, productWorkers: 0 });
    const exact = await run({ fast: false });

    expect(shared.load.distances).toBe('tfjs-wasm');
    expect(shared.load.products?.helpers).toBe(1);
    expect(shared.load.products?.byHelpers).toBeGreaterThan(0);
    expect(shared.load.products!.byHelpers).toBeLessThanOrEqual(shared.load.products!.blocks);
    expect(alone.load.products).toMatchObject({ helpers: 0, blocks: shared.load.products!.blocks, byHelpers: 0 });

    expect(shared.load.exactFromK).toEqual(alone.load.exactFromK);
    expect(shared.cuts).toEqual(alone.cuts);
    const exactFromK = shared.load.exactFromK.blobs;
    KEEPS.forEach((keep, i) => {
      if (Math.round(keep * n) >= exactFromK) expect(shared.cuts[i]).toEqual(exact.cuts[i]);
    });
    // The comparison above is not empty: the groups at the first keep hold images.
    expect((shared.cuts[0].groups as unknown[]).length).toBeGreaterThan(0);
  });

  it('a matrix this small gets no helper by default', async () => {
    const auto = await run({ fast: true, backend: 'wasm' });
    expect(auto.load.products?.helpers).toBe(0);
  });
});
