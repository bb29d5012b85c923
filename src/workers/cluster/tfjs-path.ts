import type { BackendName } from '../../ml/backend.ts';

/**
 * The tfjs side is loaded on the first call that needs it (a fast load, a large class, a pair
 * search), so the exact path never downloads tfjs, and the backend is chosen once per worker
 * (tfjs cannot switch cleanly while tensors live; the client starts a fresh worker per load anyway).
 */
let tfjsPath: Promise<{ backend: BackendName; float32: boolean; cluster: typeof import('../../ml/distances.ts').clusterClassesTf }> | null =
  null;
export function loadTfjsPath(preferred?: BackendName) {
  tfjsPath ??= (async () => {
    const [tf, { chooseBackend }, { clusterClassesTf }] = await Promise.all([
      import('@tensorflow/tfjs'),
      import('../../ml/backend.ts'),
      import('../../ml/distances.ts'),
    ]);
    const backend = await chooseBackend(preferred);
    // The refinement's guarantee assumes IEEE float32 products; webgl on some GPUs renders to
    // float16 textures, which it does not cover.
    const float32 = backend !== 'webgl' || tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    return { backend, float32, cluster: clusterClassesTf };
  })();
  return tfjsPath;
}
