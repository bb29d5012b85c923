import { expose } from 'comlink';
import { groupsFromPrepared, prepareGrouping, type Group, type GroupItem, type PreparedGrouping, type SimilarItemPair } from '../../core/groups.ts';
import type { Settings } from '../../core/settings.ts';
import { similarPairs } from '../../core/similar-pairs.ts';
import type { SimilarPairArrays } from '../../ml/similar-pairs-tf.ts';
import { embeddedRows, MAX_SIMILAR_PAIRS, searchFloor, type EmbeddedRows } from './embedding-pairs.ts';

/**
 * The pair search is the only costly step and does not depend on the threshold below the one it
 * ran with, so it runs once up to PAIR_SEARCH_FLOOR (or the asked threshold, if higher) and the
 * slider then only re-cuts. Above ~20 bits random 64-bit hashes start to pair up by chance, so the
 * floor stays well below that. Embedding pairs likewise go down to SIMILARITY_FLOOR.
 */
const PAIR_SEARCH_FLOOR = 16;

export type GroupSettings = Pick<Settings, 'mode' | 'hash' | 'threshold' | 'keeper' | 'linkage' | 'perClass' | 'embeddings' | 'similarity'>;

let items: GroupItem[] = [];
let prepared: PreparedGrouping | null = null;
/** Embeddings by item position (rows in item order; rows of items without one are absent). */
let embedded: EmbeddedRows | null = null;
let similar: { floor: number; pairs: SimilarItemPair[] } | null = null;

function similarAt(bar: number): { floor: number; pairs: SimilarItemPair[] } | null {
  if (!embedded) return null;
  if (similar && similar.floor <= bar) return similar;
  // Large sets arrive with their pairs (setSimilarPairs); these loops serve the small ones.
  const floor = searchFloor(bar);
  const { positions, vectors, dim } = embedded;
  const found = similarPairs(vectors, positions.length, dim, floor, { maxPairs: MAX_SIMILAR_PAIRS });
  similar = { floor, pairs: found.map((p) => ({ a: positions[p.a], b: positions[p.b], similarity: p.similarity })) };
  prepared = null;
  return similar;
}

const api = {
  load(next: GroupItem[]): void {
    items = next;
    prepared = null;
    embedded = null;
    similar = null;
  },

  /**
   * Embeddings (mean-centred by the caller) for some of the loaded items, by file id; rows are
   * `dim` floats in the order of `ids`. Replaces any earlier set.
   */
  setEmbeddings(input: { ids: number[]; vectors: Float32Array; dim: number }): void {
    embedded = embeddedRows(items, input);
    similar = null;
    prepared = null;
  },

  /**
   * The embedding pairs down to `floor`, found elsewhere (tfjs products in the clustering worker)
   * over the rows embeddedRows keeps of the current embeddings, in its row numbering: what
   * similarPairs would return here at that floor. Bars at or above `floor` then use them.
   */
  setSimilarPairs(found: SimilarPairArrays & { floor: number }): void {
    if (!embedded) throw new Error('setSimilarPairs: no embeddings set');
    const { positions } = embedded;
    const pairs: SimilarItemPair[] = new Array(found.a.length);
    for (let k = 0; k < pairs.length; k++) pairs[k] = { a: positions[found.a[k]], b: positions[found.b[k]], similarity: found.similarity[k] };
    similar = { floor: found.floor, pairs };
    prepared = null;
  },

  group(settings: GroupSettings): Group[] {
    const near = settings.mode === 'near';
    const needed = near ? settings.threshold : -1;
    const withEmbeddings = near && settings.embeddings && embedded !== null;
    const sim = withEmbeddings ? similarAt(settings.similarity) : null;
    const fits =
      prepared !== null &&
      prepared.perClass === settings.perClass &&
      (!near || (prepared.hash === settings.hash && prepared.maxThreshold >= needed)) &&
      (sim === null || prepared.minSimilarity <= settings.similarity || sim.pairs.length === 0);
    if (!fits) {
      prepared = prepareGrouping(items, {
        hash: settings.hash,
        perClass: settings.perClass,
        maxThreshold: near ? Math.max(needed, PAIR_SEARCH_FLOOR) : -1,
        similarPairs: sim?.pairs,
        minSimilarity: sim?.floor,
      });
    }
    return groupsFromPrepared(prepared!, {
      mode: settings.mode === 'near' ? 'near' : 'exact',
      threshold: settings.threshold,
      keeperRule: settings.keeper,
      linkage: settings.linkage,
      similarity: withEmbeddings ? settings.similarity : undefined,
    });
  },
};

export type GroupWorkerApi = typeof api;
expose(api);
