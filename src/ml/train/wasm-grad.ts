/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so any conv layer fails to train on
 * wasm ("Kernel 'Conv2DBackpropFilter' not registered"). This registers one built from kernels
 * wasm does have: the filter gradient is itself a convolution, with the batch axis as the
 * contraction axis and dy as a (dilated) filter:
 *   dW[a,b,ci,co] = Σ_{n,y,x} xpad[n, y·s+a, x·s+b, ci] · dy[n,y,x,co]
 * = conv2d(input = xpadᵀ [ci, Hp, Wp, n], filter = dyᵀ [Ho, Wo, n, co], dilation s, valid).
 * That keeps the work in XNNPACK instead of a JavaScript loop.
 */
import * as tf from '@tensorflow/tfjs';

let registered = false;

export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], strides: number | [number, number], pad: tf.backend_util.PadInfo | 'same' | 'valid' | number, dimRoundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filterShape;
    const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, [sh, sw], 1, pad as 'same', dimRoundingMode);
    const { top, left } = info.padInfo;
    const [, h, w] = x.shape;
    const ho = dy.shape[1];
    const wo = dy.shape[2];
    // Rows/columns the dilated dy reaches, plus kh−1: pad or crop x's far edge to exactly that.
    const needH = (ho - 1) * sh + kh;
    const needW = (wo - 1) * sw + kw;
    let xp = tf.pad(x, [[0, 0], [top, Math.max(0, needH - h - top)], [left, Math.max(0, needW - w - left)], [0, 0]]);
    if (xp.shape[1] > needH || xp.shape[2] > needW) xp = tf.slice(xp, [0, 0, 0, 0], [-1, needH, needW, -1]);
    const input = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
    const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const out = tf.conv2d(input, filter, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * The wasm Conv2DBackpropInput kernel is a plain loop, ~10× slower than XNNPACK's forward conv and
 * half of a training step in a profile. The input gradient is a stride-1 convolution of dy,
 * zero-dilated by the stride, with the filter turned 180° and its channel axes swapped:
 *   dx[i] = Σ_a dyd[i + top − a] · W[a] = Σ_a' dyd[i + top − (k−1) + a'] · Wflip[a'].
 */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: [number, number, number, number], strides: number | [number, number], pad: tf.backend_util.PadInfo | 'same' | 'valid' | number, dimRoundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, [sh, sw], 1, pad as 'same', dimRoundingMode);
    const { top, left } = info.padInfo;
    const [n, h, w] = inputShape;
    let d: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const [, ho, wo, c] = dy.shape;
      // Zero-insertion by padding a unit axis, then trimming the trailing zeros.
      d = tf.reshape(tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]), [n, ho * sh, wo * sw, c]);
      d = tf.slice(d, [0, 0, 0, 0], [-1, (ho - 1) * sh + 1, (wo - 1) * sw + 1, -1]);
    }
    const padT = kh - 1 - top;
    const padL = kw - 1 - left;
    const needH = h + kh - 1;
    const needW = w + kw - 1;
    if (padT < 0 || padL < 0) d = tf.slice(d, [0, Math.max(0, -padT), Math.max(0, -padL), 0], [-1, -1, -1, -1]);
    const curH = d.shape[1] + Math.max(0, padT);
    const curW = d.shape[2] + Math.max(0, padL);
    d = tf.pad(d, [[0, 0], [Math.max(0, padT), Math.max(0, needH - curH)], [Math.max(0, padL), Math.max(0, needW - curW)], [0, 0]]);
    if (d.shape[1] > needH || d.shape[2] > needW) d = tf.slice(d, [0, 0, 0, 0], [-1, needH, needW, -1]);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(d, flipped, 1, 'valid');
  });
}

/** Idempotent. The filter kernel is only added when missing, so a later tfjs release's own one wins. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { dy, filter } = inputs as unknown as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      const a = attrs as unknown as { strides: [number, number] | number; pad: 'same' | 'valid' | number; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number] };
      if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropInput on wasm: only NHWC');
      return conv2dInputGrad(dy, filter, a.inputShape, a.strides, a.pad, a.dimRoundingMode) as unknown as tf.TensorInfo;
    },
  });
  // Batch-norm's gradient tiles per-channel statistics to the full activation shape; the wasm
  // Tile kernel is a plain loop (~20% of a step). When tiling only repeats size-1 axes it equals a
  // broadcasting add onto zeros, which runs in XNNPACK; other tilings keep the original kernel.
  const tile = tf.getKernel('Tile', 'wasm');
  if (tile) {
    const original = tile.kernelFunc;
    tf.unregisterKernel('Tile', 'wasm');
    tf.registerKernel({
      ...tile,
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.Tensor;
        const reps = (args.attrs as unknown as { reps: number[] }).reps;
        if (x.dtype === 'float32' && x.shape.every((d, i) => d === 1 || reps[i] === 1)) {
          return tf.tidy(() => tf.add(x, tf.zeros(x.shape.map((d, i) => d * reps[i]), 'float32'))) as unknown as tf.TensorInfo;
        }
        return original(args);
      },
    });
  }
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.Tensor4D; dy: tf.Tensor4D };
      const a = attrs as unknown as { strides: [number, number] | number; pad: 'same' | 'valid' | number; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number] };
      if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter on wasm: only NHWC');
      // Kernel inputs arrive as TensorInfo; the engine hands us tensors in practice, and a
      // returned Tensor (rank set) is taken as the output as is.
      return conv2dFilterGrad(x, dy, a.filterShape, a.strides, a.pad, a.dimRoundingMode) as unknown as tf.TensorInfo;
    },
  });
}
