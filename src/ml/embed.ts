/**
 * Images → embeddings. Pixels arrive already at the model's input size (see pixels.ts for why
 * resizing happens at decode time, not here); this module scales them to the model's input range,
 * runs the graph to the embedding node and returns one flat Float32Array. Every intermediate
 * tensor lives inside `tf.tidy`; the one result tensor is disposed after it is read.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pixels } from './pixels.ts';
import type { ModelEntry } from './registry.ts';

/** The parts of a registry entry that embedding needs. */
export type EmbedSpec = Pick<ModelEntry, 'inputSize' | 'input' | 'inputRange' | 'outputNode' | 'dim'>;

function check(entry: EmbedSpec, pixels: readonly Pixels[]): void {
  const s = entry.inputSize;
  pixels.forEach((p, i) => {
    if (p.width !== s || p.height !== s) {
      throw new Error(`embedBatch: image ${i} is ${p.width}×${p.height}, the model takes ${s}×${s}; resize it when decoding (decodeOptions / resizeRgba)`);
    }
    if (p.data.length !== s * s * 4) {
      throw new Error(`embedBatch: image ${i} has ${p.data.length} bytes, expected ${s * s * 4} (RGBA)`);
    }
  });
}

/**
 * Builds the [N, S, S, 3] float input: drops alpha and maps 0..255 onto `entry.inputRange`.
 * Call inside `tf.tidy`.
 */
export function toInputTensor(entry: EmbedSpec, pixels: readonly Pixels[]): tf.Tensor4D {
  check(entry, pixels);
  const [lo, hi] = entry.inputRange;
  const images = pixels.map((p) =>
    // A Uint8Array view (no copy) is what fromPixels accepts as raw pixel data; GPU backends
    // upload it as a texture, wasm/cpu drop the alpha channel in JS.
    tf.browser.fromPixels({ data: new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength), width: p.width, height: p.height }, 3),
  );
  const batch = tf.stack(images).toFloat();
  return tf.add(tf.mul(batch, (hi - lo) / 255), lo) as tf.Tensor4D;
}

/**
 * Embeds a batch of images (each `inputSize`×`inputSize` RGBA) with a loaded graph model.
 * Returns a row-major Float32Array of `pixels.length × entry.dim` values: row i is image i's
 * embedding, un-normalised. The caller chunks: GPU backends do well with 16–32 a call; on wasm the
 * batch hardly changes the time per image but grows the memory (docs/neardup-embeddings.md).
 */
export async function embedBatch(model: tf.GraphModel, entry: EmbedSpec, pixels: readonly Pixels[]): Promise<Float32Array> {
  if (pixels.length === 0) return new Float32Array(0);
  const n = pixels.length;
  const out = tf.tidy(() => {
    const input = toInputTensor(entry, pixels);
    const y = model.execute({ [entry.input]: input }, entry.outputNode) as tf.Tensor;
    if (y.size !== n * entry.dim) {
      throw new Error(`embedBatch: ${entry.outputNode} gave shape [${y.shape}], expected ${n}×${entry.dim}`);
    }
    return tf.reshape(y, [n, entry.dim]); // [N,1,1,D] → [N,D]
  });
  try {
    // data(), not dataSync(): GPU backends read back asynchronously without blocking the thread.
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}
