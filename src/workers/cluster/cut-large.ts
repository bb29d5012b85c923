import { keepCount } from '../../core/cluster/index.ts';
import { clusterFromEdges, cutForest, forestClustering, rowNormsOf, type ForestLinkage } from '../../core/cluster/components.ts';
import { semanticCut, type SemanticModel } from '../../core/semantic.ts';
import { progressGate } from './progress.ts';
import { loadTfjsPath } from './tfjs-path.ts';
import type { ClusterLargeInput, ClusterLargeProgress, ClusterLargeResult } from './types.ts';

/**
 * cutLarge: the pairs closer than a threshold from blocked products, complete linkage inside each
 * connected component of that graph, grown until the cut is covered (core/cluster/components.ts).
 * Memory O(edges + n·d) instead of the n² matrix, the partition the full run gives.
 */
export async function cutLarge(input: ClusterLargeInput, onProgress?: (p: ClusterLargeProgress) => void): Promise<ClusterLargeResult> {
  const started = performance.now();
  const { dim, ids, vectors, keep } = input;
  const n = ids.length;
  if (vectors.length !== n * dim) throw new RangeError(`cutLarge: ${vectors.length} values, expected ${n}×${dim}`);
  const label = input.label ?? 'class';
  // One gate per stage: each stage's bar runs from 0 to its own total.
  const gates = new Map<ClusterLargeProgress['stage'], ReturnType<typeof progressGate>>();
  const report = (stage: ClusterLargeProgress['stage']) => (done: number, total: number) => {
    if (!onProgress) return;
    if (!gates.has(stage)) gates.set(stage, progressGate());
    if (gates.get(stage)!(done, total)) void onProgress({ stage, done, total });
  };
  const tfjs = await loadTfjsPath(input.backend);
  // The edge bound assumes IEEE float32 products (see threshold-edges.ts).
  if (!tfjs.float32) throw new Error('cutLarge: this webgl backend renders to float16; choose wasm or webgpu');
  const { thresholdEdgesTf } = await import('../../ml/threshold-edges.ts');
  const k = keepCount(n, keep);
  let forest: ForestLinkage | null = null;
  let maxEdges = input.maxEdges ?? 32 * n;
  let edgesMs = 0;
  let linkageMs = 0;
  let searches = 0;
  let found = { below: 0, count: 0, refined: 0 };
  while (n > 1 && !forest && searches < 3) {
    const t0 = performance.now();
    const edges = await thresholdEdgesTf(vectors, n, dim, { maxEdges, onProgress: report('edges') });
    const t1 = performance.now();
    forest = clusterFromEdges(n, edges, k, { maxComponent: input.maxComponent, onProgress: report('linkage') });
    linkageMs += performance.now() - t1;
    edgesMs += t1 - t0;
    found = { below: edges.below, count: edges.count, refined: edges.refined };
    searches++;
    maxEdges *= 4;
  }
  if (n > 1 && !forest) throw new Error(`cutLarge: ${found.count} pairs below ${found.below} do not cover the cut to ${k} clusters`);
  const model: SemanticModel = {
    dim,
    classes: [{ label, ids: ids.slice(), n, vectors, norms: rowNormsOf(vectors, n, dim), clustering: forest && forestClustering(forest, vectors, dim) }],
  };
  const result = semanticCut(model, { keep });
  return {
    ...result,
    ms: performance.now() - started,
    large: {
      n,
      k,
      backend: tfjs.backend,
      t: forest?.t ?? 0,
      below: found.below,
      edges: found.count,
      edgesBelowT: forest?.edges ?? 0,
      refined: found.refined,
      components: forest?.components ?? n,
      largestComponent: forest?.largestComponent ?? n,
      mergesBelowT: forest?.count ?? 0,
      tiedAtCut: forest ? cutForest(forest, k).tiedAtCut : false,
      searches,
      edgesMs,
      linkageMs,
    },
  };
}
