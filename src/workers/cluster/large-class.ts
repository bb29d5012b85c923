/**
 * Classes too large for a full merge tree (LARGE_CLASS_FROM items on): a forest of the tree's
 * merges up to a threshold, from the pairs closer than it, grown when a cut needs more.
 */
import { keepCount } from '../../core/cluster/index.ts';
import {
  clusterFromEdges,
  coversK,
  cutForest,
  forestClustering,
  GiantComponentError,
  linkageBelow,
  rowNormsOf,
  type EdgeList,
  type ForestLinkage,
} from '../../core/cluster/components.ts';
import type { SemanticClassInput, SemanticClassModel } from '../../core/semantic.ts';
import { LARGE_CLASS_FROM, LARGE_EDGES_PER_ITEM, LARGE_MAX_COMPONENT, LARGE_MAX_EDGES, type LargeClassInfo, type LargeClassOptions } from './types.ts';


/**
 * Keep fractions the load tries to cover with its first search, in order: the slider's usual range
 * then cuts with no further work; a cut below what the load covered extends the forest then.
 */
const LARGE_COVER_ON_LOAD = [0.5, 0.7, 0.8, 0.9, 0.95];

/**
 * How far above a distance cut a search for it reaches: the edge list promises pairs strictly
 * below its bound, and the cut needs those at the threshold too.
 */
const HEIGHT_MARGIN = 1e-6;

export type LargeLimits = Required<LargeClassOptions>;

export function largeLimits(options: LargeClassOptions = {}): LargeLimits {
  return {
    from: Math.max(2, Math.floor(options.from ?? LARGE_CLASS_FROM)),
    edgesPerItem: Math.max(1, options.edgesPerItem ?? LARGE_EDGES_PER_ITEM),
    maxEdges: Math.max(1, Math.floor(options.maxEdges ?? LARGE_MAX_EDGES)),
    maxComponent: options.maxComponent ?? LARGE_MAX_COMPONENT,
  };
}

/**
 * A class too large for the full merge tree: its edge list (every pair closer than
 * `edges.below`) and the forest built from it (every merge of the full tree up to `forest.t`),
 * exposed to semanticCut as the model entry's clustering. Both only grow: a cut that needs more
 * merges than the forest holds rebuilds it at a larger t from the edges held, and searches for
 * more edges (4× as many) when those do not reach; forestClustering refuses any cut it does not
 * cover, so a cut is the full tree's or an error, never a guess.
 */
export interface LargeClass {
  model: SemanticClassModel;
  dim: number;
  limits: LargeLimits;
  edges: EdgeList;
  /** maxEdges of the last search. */
  maxEdges: number;
  forest: ForestLinkage;
  searches: number;
  edgesMs: number;
  linkageMs: number;
}

/** Progress of one large class's step, as a fraction of its share of the bar. */
export type Share = (fraction: number) => void;
/** Of a class's share, the edge search's (O(n²d) products) against the components' linkage. */
const EDGES_SHARE = 0.9;
const edgesShare = (share?: Share): Share | undefined => share && ((f) => share(EDGES_SHARE * f));
/**
 * The linkage's part, after a search. Each try of clusterFromEdges (t doubles until the cut is
 * covered) counts from 0 again: the bar waits at the highest point reached rather than go back.
 */
function linkageShare(share?: Share): ((done: number, total: number) => void) | undefined {
  if (!share) return undefined;
  let best = 0;
  return (done, total) => {
    const f = total > 0 ? done / total : 1;
    if (f < best) return;
    best = f;
    share(EDGES_SHARE + (1 - EDGES_SHARE) * f);
  };
}

export async function loadLarge(c: SemanticClassInput, dim: number, limits: LargeLimits, share?: Share): Promise<LargeClass> {
  const n = c.ids.length;
  const norms = rowNormsOf(c.vectors, n, dim);
  const nothing = linkageBelow(n, { i: new Int32Array(0), j: new Int32Array(0), d: new Float64Array(0), count: 0, below: Infinity }, -Infinity);
  const cls: LargeClass = {
    model: { label: c.label, ids: c.ids.slice(), n, vectors: c.vectors, norms, clustering: null },
    dim,
    limits,
    edges: { i: new Int32Array(0), j: new Int32Array(0), d: new Float64Array(0), count: 0, below: -Infinity },
    maxEdges: 0,
    forest: nothing,
    searches: 0,
    edgesMs: 0,
    linkageMs: 0,
  };
  setForest(cls, nothing);
  await search(cls, Math.min(limits.maxEdges, Math.ceil(limits.edgesPerItem * n)), undefined, edgesShare(share));
  // Cover as much of the usual range as these edges allow, without searching again: a component
  // too large, or edges that do not reach, only mean a lower keep needs more work later.
  const onLinkage = linkageShare(share);
  for (const keep of LARGE_COVER_ON_LOAD) {
    const t0 = performance.now();
    try {
      const forest = clusterFromEdges(n, cls.edges, keepCount(n, keep), { maxComponent: limits.maxComponent, onProgress: onLinkage });
      if (forest) {
        setForest(cls, forest);
        break;
      }
    } catch (error) {
      if (!(error instanceof GiantComponentError)) throw error;
    } finally {
      cls.linkageMs += performance.now() - t0;
    }
  }
  share?.(1);
  return cls;
}

function setForest(cls: LargeClass, forest: ForestLinkage): void {
  cls.forest = forest;
  cls.model.clustering = forestClustering(forest, cls.model.vectors, cls.dim);
}

/**
 * Replaces the class's edges with a search keeping up to maxEdges pairs (all below `below`, when
 * given, if they fit). A crowd of identical images can hold more pairs at distance 0 than
 * maxEdges: the search says so, and is run again with more, up to the cap.
 */
async function search(cls: LargeClass, maxEdges: number, below: number | undefined, onFraction?: Share): Promise<void> {
  const { thresholdEdgesTf } = await import('../../ml/threshold-edges.ts');
  const { n, vectors, label } = cls.model;
  const cap = cls.limits.maxEdges;
  for (;;) {
    const t0 = performance.now();
    try {
      const edges = await thresholdEdgesTf(vectors, n, cls.dim, { maxEdges, below, onProgress: onFraction && ((done, total) => onFraction(total > 0 ? done / total : 1)) });
      // A later search keeps more pairs, so its bound is not lower; the guard keeps the lists nested anyway.
      if (edges.below >= cls.edges.below) cls.edges = edges;
      cls.maxEdges = maxEdges;
      return;
    } catch (error) {
      const ties = error instanceof RangeError && /raise maxEdges/.test(error.message);
      if (!ties) throw error;
      if (maxEdges >= cap) {
        throw new Error(
          `class ${JSON.stringify(label)}: more than ${cap.toLocaleString('en')} pairs of identical images, more than a class of ${n.toLocaleString('en')} may hold without a full merge tree`,
        );
      }
      maxEdges = Math.min(cap, 4 * maxEdges);
    } finally {
      cls.searches++;
      cls.edgesMs += performance.now() - t0;
    }
  }
}

/** Grows the forest until it holds the merges of the cut to k clusters (see LargeClass). */
export async function coverKeep(cls: LargeClass, k: number, keep: number, share?: Share): Promise<void> {
  if (coversK(cls.forest, k)) return;
  const { n, label } = cls.model;
  // The first try uses the edges held (no search, quick): it reports nothing, so that the bar
  // does not run back when a search follows.
  let onLinkage: ((done: number, total: number) => void) | undefined;
  for (;;) {
    const t0 = performance.now();
    let forest: ForestLinkage | null;
    try {
      forest = clusterFromEdges(n, cls.edges, k, { maxComponent: cls.limits.maxComponent, onProgress: onLinkage });
    } catch (error) {
      if (!(error instanceof GiantComponentError)) throw error;
      throw new Error(
        `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) cannot be cut to keep ${keep} without its full merge tree, which a class this large does not get: ${error.size.toLocaleString('en')} of its images are linked by pairs within cosine distance ${error.t.toPrecision(3)}. Choose a higher keep fraction for this class.`,
      );
    } finally {
      cls.linkageMs += performance.now() - t0;
    }
    if (forest) {
      setForest(cls, forest);
      share?.(1);
      return;
    }
    if (cls.maxEdges >= cls.limits.maxEdges) {
      throw new Error(
        `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) cannot be cut to keep ${keep}: its ${cls.limits.maxEdges.toLocaleString('en')} closest pairs (every pair closer than ${cls.edges.below.toPrecision(3)}) do not hold the ${(n - k).toLocaleString('en')} merges it needs, and a class this large gets no full merge tree. Choose a higher keep fraction for this class.`,
      );
    }
    await search(cls, Math.min(cls.limits.maxEdges, 4 * cls.maxEdges), undefined, edgesShare(share));
    onLinkage = linkageShare(share);
  }
}

/** Grows the forest until it holds every merge at or below h (a distance cut). */
export async function coverHeight(cls: LargeClass, h: number, share?: Share): Promise<void> {
  if (h <= cls.forest.t) return;
  const { n, label } = cls.model;
  while (!(h < cls.edges.below)) {
    if (cls.maxEdges >= cls.limits.maxEdges) {
      throw new Error(
        `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) has more than ${cls.limits.maxEdges.toLocaleString('en')} pairs within cosine distance ${h}, too many to cut there without its full merge tree, which a class this large does not get. Choose a smaller distance, or cut by keep fraction.`,
      );
    }
    await search(cls, Math.min(cls.limits.maxEdges, 4 * cls.maxEdges), h + HEIGHT_MARGIN, edgesShare(share));
  }
  const t0 = performance.now();
  try {
    setForest(cls, linkageBelow(n, cls.edges, h, { maxComponent: cls.limits.maxComponent, onProgress: linkageShare(share) }));
  } catch (error) {
    if (!(error instanceof GiantComponentError)) throw error;
    throw new Error(
      `class ${JSON.stringify(label)} (${n.toLocaleString('en')} images) cannot be cut at distance ${h} without its full merge tree, which a class this large does not get: ${error.size.toLocaleString('en')} of its images are linked by pairs within that distance. Choose a smaller distance, or cut by keep fraction.`,
    );
  } finally {
    cls.linkageMs += performance.now() - t0;
  }
  share?.(1);
}

export function largeInfo(cls: LargeClass, k?: number): LargeClassInfo {
  const f = cls.forest;
  const info: LargeClassInfo = {
    n: f.n,
    t: f.t,
    merges: f.count,
    below: cls.edges.below,
    edges: cls.edges.count,
    components: f.components,
    largestComponent: f.largestComponent,
    searches: cls.searches,
    edgesMs: cls.edgesMs,
    linkageMs: cls.linkageMs,
  };
  if (k !== undefined && coversK(f, k)) info.tiedAtCut = cutForest(f, k).tiedAtCut;
  return info;
}

