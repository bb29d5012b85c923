import { expose } from 'comlink';
import { clusterClasses, semanticCut, type SemanticClassInput, type SemanticCut, type SemanticCutOptions, type SemanticModel } from '../../core/semantic.ts';

export interface ClusterLoadInput {
  dim: number;
  classes: SemanticClassInput[];
}

export interface ClusterLoadProgress {
  /** Items of finished classes plus the running class's share (see clusterClasses). */
  done: number;
  total: number;
  /** The class being clustered. */
  label: string;
}

export type ClusterCutResult = SemanticCut & {
  /** Time spent cutting in the worker, without the trip to and from it. */
  ms: number;
};

/**
 * Progress crosses to the page as a message per call, and the clustering polls every few
 * milliseconds: this many ms between two reports keeps the page's queue short.
 */
const PROGRESS_EVERY_MS = 100;

let model: SemanticModel | null = null;

const api = {
  /**
   * Clusters every class (the costly step: O(n²d) per class, minutes at 10,000 images a class),
   * replacing any earlier model. The page cancels by terminating the worker, so there is no
   * cancellation hook here.
   */
  load(input: ClusterLoadInput, onProgress?: (p: ClusterLoadProgress) => void): { ms: number } {
    const started = performance.now();
    model = null; // frees the old model before the new one's matrices are allocated
    let last = -Infinity;
    model = clusterClasses(input.classes, input.dim, {
      onProgress:
        onProgress &&
        ((done, total, label) => {
          const now = performance.now();
          if (done < total && now - last < PROGRESS_EVERY_MS) return;
          last = now;
          void onProgress({ done, total, label });
        }),
    });
    return { ms: performance.now() - started };
  },

  /** One cut of the loaded model: cheap (O(n·d)), meant to follow a slider. */
  cut(options: SemanticCutOptions): ClusterCutResult {
    if (!model) throw new Error('cut: no model loaded');
    const started = performance.now();
    const result = semanticCut(model, options);
    return { ...result, ms: performance.now() - started };
  },
};

export type ClusterWorkerApi = typeof api;
expose(api);
