/**
 * A helper of the cluster worker: it computes some of the matrix products of its distance
 * matrices on a core of its own (see ml/product-blocks.ts). The cluster worker starts it when a
 * load begins (so that this module and the wasm backend load while the cluster worker starts its
 * own), hands it each matrix's unit rows, asks it for blocks, and ends it when the load is done.
 */
import { expose, transfer } from 'comlink';
import { chooseBackend } from '../../ml/backend.ts';
import { productBlock } from '../../ml/product-blocks.ts';

// Helpers only ever run on wasm: a GPU backend does its products alone (product-helpers.ts).
const backend = chooseBackend('wasm');
backend.catch(() => {}); // reported by rows()

let current: { U: Float32Array; n: number; d: number } | null = null;

const api = {
  /** Takes one matrix's unit rows (n × d), replacing the last; resolves once blocks can be asked. */
  async rows(U: Float32Array, n: number, d: number): Promise<void> {
    if (U.length !== n * d) throw new RangeError(`products worker: ${U.length} values, expected ${n}×${d}`);
    current = null;
    if ((await backend) !== 'wasm') throw new Error('products worker: the wasm backend did not start');
    current = { U, n, d };
  },

  /** productBlock of rows s..e−1 of the current rows; the array is transferred. */
  async block(s: number, e: number): Promise<Float32Array> {
    if (!current) throw new Error('products worker: block() before rows()');
    const sims = await productBlock(current.U, current.n, current.d, s, e);
    // Only a buffer the array fills alone can be handed over without taking more with it.
    const own = sims.byteOffset === 0 && sims.byteLength === sims.buffer.byteLength ? sims : sims.slice();
    return transfer(own, [own.buffer]);
  },
};

export type ProductsWorkerApi = typeof api;

expose(api);
