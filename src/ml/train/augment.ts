/**
 * The standard CIFAR augmentation (pad 4, random 32×32 crop, random mirror) on a batch tensor.
 * Random choices come from the caller's seeded source so a run can be repeated.
 */
import * as tf from '@tensorflow/tfjs';

export function augmentBatch(x: tf.Tensor4D, random: () => number, pad = 4): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = x.shape;
    const padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
    const ph = h + 2 * pad;
    const pw = w + 2 * pad;
    // cropAndResize with integer-aligned boxes samples exactly on pixel centres, so it is a pure
    // per-image crop in one kernel instead of n slices; a mirrored box (x2 < x1) flips for free.
    const boxes = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const dy = Math.floor(random() * (2 * pad + 1));
      const dx = Math.floor(random() * (2 * pad + 1));
      const flip = random() < 0.5;
      const x1 = dx / (pw - 1);
      const x2 = (dx + w - 1) / (pw - 1);
      boxes.set([dy / (ph - 1), flip ? x2 : x1, (dy + h - 1) / (ph - 1), flip ? x1 : x2], i * 4);
    }
    const idx = tf.range(0, n, 1, 'int32') as tf.Tensor1D;
    return tf.image.cropAndResize(padded, tf.tensor2d(boxes, [n, 4]), idx, [h, w], 'bilinear');
  });
}
