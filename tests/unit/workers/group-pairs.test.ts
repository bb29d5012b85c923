/**
 * Near mode's embedding pairs through GroupingClient: with a pair finder (tfjs products on the
 * wasm backend, as the clustering worker runs them) the groups equal those of the grouping
 * worker's own JS loops (core/similar-pairs.ts) at every bar, with one search for all bars down to
 * SIMILARITY_FLOOR, progress, and a cancel. The grouping worker runs in-process: a fake Worker
 * hands comlink one end of a MessageChannel and a fresh copy of the worker module the other.
 */
import * as comlink from 'comlink';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { GroupItem } from '../../../src/core/groups.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../../src/core/settings.ts';
import { HASH_KINDS, type HashSet } from '../../../src/core/types.ts';
import { chooseBackend } from '../../../src/ml/backend.ts';
import { similarPairsTf } from '../../../src/ml/similar-pairs-tf.ts';
import { TFJS_PAIRS_FROM } from '../../../src/workers/group/embedding-pairs.ts';
import { GroupingClient, type SimilarPairFinder } from '../../../src/workers/group/client.ts';
import type { FileAnalysis } from '../../../src/workers/hash/analyse.ts';
import type { IntakeFile } from '../../../src/io/intake/collect.ts';
import { gaussian, rng } from '../cluster/support.ts';
import { WASM_DIR } from '../ml/helpers.ts';

/** What the worker module passed to expose() as it was imported (it has no port of its own here). */
const exposed: { api: unknown } = { api: null };
vi.mock('comlink', async (original) => {
  const real = await original<typeof import('comlink')>();
  return { ...real, expose: (api: unknown, ep?: comlink.Endpoint) => (ep ? real.expose(api, ep) : void (exposed.api = api)) };
});

let workersStarted = 0;
/** A Worker whose "thread" is a fresh import of group.worker.ts behind a MessageChannel. */
class InProcessWorker {
  constructor() {
    workersStarted++;
    const { port1, port2 } = new MessageChannel();
    void (async () => {
      vi.resetModules(); // fresh module state, as a new worker has
      await import('../../../src/workers/group/group.worker.ts');
      comlink.expose(exposed.api as object, port2 as unknown as comlink.Endpoint);
    })();
    return Object.assign(port1, {
      terminate: () => {
        port1.close();
        port2.close();
      },
    }) as unknown as InProcessWorker;
  }
}

beforeAll(async () => {
  expect(await chooseBackend('wasm', { wasmPaths: WASM_DIR })).toBe('wasm');
  vi.stubGlobal('Worker', InProcessWorker);
});

let clients: GroupingClient[] = [];
afterEach(() => {
  clients.forEach((c) => c.dispose());
  clients = [];
});

const D = 16;

/** Random 64-bit hex hashes (hash pairs within 10 bits are then rare), some exact copies by sha. */
function run(seed: number, n: number): { files: IntakeFile[]; results: FileAnalysis[] } {
  const r = rng(seed);
  const hex = () => Array.from({ length: 16 }, () => Math.floor(r() * 16).toString(16)).join('');
  const files: IntakeFile[] = [];
  const results: FileAnalysis[] = [];
  for (let id = 0; id < n; id++) {
    const copyOf = id > 0 && r() < 0.02 ? Math.floor(r() * id) : -1;
    const h = copyOf >= 0 ? null : hex();
    const hashes = (h ? Object.fromEntries(HASH_KINDS.map((k) => [k, h])) : (results[copyOf] as { features: { hashes: HashSet } }).features.hashes) as HashSet;
    const mirrored = Object.fromEntries(HASH_KINDS.map((k) => [k, hex()])) as HashSet;
    const sha256 = copyOf >= 0 ? (results[copyOf] as { sha256: string }).sha256 : `sha-${id}`;
    files.push({ path: `c${id % 3}/${id}.jpg`, label: `c${id % 3}`, file: { size: 1000 + Math.floor(r() * 1000) } } as unknown as IntakeFile);
    results.push({ ok: true, sha256, features: { sha256, width: 100, height: 100, hashes, mirrored } } as unknown as FileAnalysis);
  }
  return { files, results };
}

/** Embeddings for the ids, in a shuffled order, plus ids of files that are not loaded; half the rows near-copy an earlier one. */
function embeddings(seed: number, ids: number[]): { ids: number[]; vectors: Float32Array; dim: number } {
  const r = rng(seed);
  const order = [...ids, -5, -9];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const n = order.length;
  const X = gaussian(seed + 1, n * D);
  const noise = gaussian(seed + 2, n * D);
  for (let i = 1; i < n; i++) {
    if (r() > 0.5) continue;
    const src = Math.floor(r() * i) * D;
    const scale = 0.9 * r() * r();
    for (let q = 0; q < D; q++) X[i * D + q] = X[src + q] + scale * noise[i * D + q];
  }
  return { ids: order, vectors: X, dim: D };
}

/** The clustering worker's path, without the worker. */
function tfjsFinder(calls: { minSimilarity: number }[]): SimilarPairFinder {
  return (input, { signal, onProgress }) => {
    calls.push({ minSimilarity: input.minSimilarity });
    return similarPairsTf(input.vectors, input.n, input.dim, input.minSimilarity, {
      maxPairs: input.maxPairs,
      blockRows: 300,
      chunkRows: 700,
      shouldStop: () => signal.aborted,
      onProgress: (done, total) => onProgress?.({ done, total }),
    });
  };
}

const near = (similarity: number): Settings => ({ ...DEFAULT_SETTINGS, mode: 'near', embeddings: true, similarity, threshold: 6 });

/** Loads `client`; returns how many times it has asked for the embedding rows so far. */
async function loaded(client: GroupingClient, seed: number, n: number): Promise<() => number> {
  clients.push(client);
  const { files, results } = run(seed, n);
  await client.load(files, results);
  const e = embeddings(seed, Array.from({ length: n }, (_, id) => id));
  let made = 0;
  await client.setEmbeddings({ ids: e.ids, dim: e.dim, rows: () => (made++, e.vectors.slice()) });
  return () => made;
}

describe('GroupingClient embedding pairs from a finder', () => {
  const n = TFJS_PAIRS_FROM + 150;

  test('groups equal the grouping worker’s own loops at every bar; one search down to the floor, another below it', async () => {
    const calls: { minSimilarity: number }[] = [];
    const withFinder = new GroupingClient(tfjsFinder(calls));
    const jsOnly = new GroupingClient();
    await loaded(withFinder, 7, n);
    await loaded(jsOnly, 7, n);
    let embeddingGroups = 0;
    for (const bar of [0.95, 0.85, 0.8, 0.9, 0.7, 0.75]) {
      const got = await withFinder.group(near(bar));
      const expected = await jsOnly.group(near(bar));
      expect(got.groups).toEqual(expected.groups);
      embeddingGroups = Math.max(embeddingGroups, got.groups.length);
    }
    expect(embeddingGroups).toBeGreaterThan(50);
    expect(calls).toEqual([{ minSimilarity: 0.8 }, { minSimilarity: 0.7 }]);
    // Hash-only and exact grouping never search.
    expect((await withFinder.group({ ...near(0.5), embeddings: false })).groups).toEqual((await jsOnly.group({ ...near(0.5), embeddings: false })).groups);
    expect(calls).toHaveLength(2);
  });

  test('progress runs to 1; a restarted grouping worker gets the pairs without a new search', async () => {
    const calls: { minSimilarity: number }[] = [];
    const client = new GroupingClient(tfjsFinder(calls));
    const rowsMade = await loaded(client, 11, n);
    const seen: number[] = [];
    const first = await client.group(near(0.85), undefined, (f) => seen.push(f));
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(1);
    for (let k = 1; k < seen.length; k++) expect(seen[k]).toBeGreaterThanOrEqual(seen[k - 1]);
    const before = rowsMade();
    client.dispose(); // as a cancelled grouping leaves it
    expect((await client.group(near(0.85))).groups).toEqual(first.groups);
    expect(calls).toHaveLength(1);
    // The client keeps no rows of its own: the fresh worker's were made again.
    expect(rowsMade()).toBe(before + 1);
  });

  test('an abort during the search rejects with its reason and stops the finder; the next call searches again', async () => {
    let seenSignal: AbortSignal | null = null;
    const calls: { minSimilarity: number }[] = [];
    const inner = tfjsFinder(calls);
    const client = new GroupingClient((input, options) => ((seenSignal = options.signal), inner(input, options)));
    await loaded(client, 13, n);
    const controller = new AbortController();
    const reason = new DOMException('Cancelled', 'AbortError');
    const pending = client.group(near(0.85), controller.signal, () => controller.abort(reason));
    await expect(pending).rejects.toBe(reason);
    expect(seenSignal!.aborted).toBe(true);
    const again = await client.group(near(0.85));
    expect(calls).toHaveLength(2);
    const jsOnly = new GroupingClient();
    await loaded(jsOnly, 13, n);
    expect(again.groups).toEqual((await jsOnly.group(near(0.85))).groups);
  });

  test(`below ${TFJS_PAIRS_FROM} embedded items the grouping worker searches itself`, async () => {
    const calls: { minSimilarity: number }[] = [];
    const client = new GroupingClient(tfjsFinder(calls));
    const rowsMade = await loaded(client, 5, TFJS_PAIRS_FROM - 3); // + 2 ids that are not loaded: still below
    const jsOnly = new GroupingClient();
    await loaded(jsOnly, 5, TFJS_PAIRS_FROM - 3);
    expect((await client.group(near(0.85))).groups).toEqual((await jsOnly.group(near(0.85))).groups);
    await client.group(near(0.9));
    expect(calls).toEqual([]);
    // Made once, for the worker: slider moves on a set this small make no rows for a search.
    expect(rowsMade()).toBe(1);
  });
});
