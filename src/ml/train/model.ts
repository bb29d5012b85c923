/**
 * A compact CIFAR-style ResNet (He et al. 2016, the 6n+2 family) for 32×32×3 input, small enough
 * to train in a browser tab. The global-average-pool output is the embedding the paper
 * (Birodkar et al. 2019) clusters on, so that layer carries a fixed name.
 */
import * as tf from '@tensorflow/tfjs';

export const EMBEDDING_LAYER = 'embedding';

export interface ResNetOptions {
  numClasses: number;
  /** Channels of the first stage; the next two stages double it. 16 is ResNet-20's width. */
  width?: number;
  /** Residual blocks per stage (n in 6n+2). */
  blocksPerStage?: number;
  /** L2 weight decay on conv and dense kernels; 0 turns it off. */
  weightDecay?: number;
  inputSize?: number;
  seed?: number;
}

export function buildResNet(o: ResNetOptions): tf.LayersModel {
  const width = o.width ?? 16;
  const blocks = o.blocksPerStage ?? 2;
  const size = o.inputSize ?? 32;
  const wd = o.weightDecay ?? 5e-4;
  let seed = o.seed ?? 1;
  // Seeded initialisers: two runs with one seed should start from the same weights.
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const reg = () => (wd > 0 ? tf.regularizers.l2({ l2: wd }) : undefined);
  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, stride: number) =>
    tf.layers
      .conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, kernelInitializer: init(), kernelRegularizer: reg() })
      .apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor) => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor) => tf.layers.reLU().apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [size, size, 3] });
  let x = relu(bn(conv(input, width, 3, 1)));
  for (let stage = 0; stage < 3; stage++) {
    const filters = width << stage;
    for (let b = 0; b < blocks; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      let y = relu(bn(conv(x, filters, 3, stride)));
      y = bn(conv(y, filters, 3, 1));
      // Projection only where the shape changes; identity elsewhere keeps gradients clean.
      const shortcut = stride !== 1 || (x.shape[3] as number) !== filters ? bn(conv(x, filters, 1, stride)) : x;
      x = relu(tf.layers.add().apply([y, shortcut]) as tf.SymbolicTensor);
    }
  }
  const embedding = tf.layers.globalAveragePooling2d({ name: EMBEDDING_LAYER }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: o.numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), kernelRegularizer: reg() })
    .apply(embedding) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** Same weights, output cut at the pooled features; shares variables with `model`, so dispose only that. */
export function embeddingModel(model: tf.LayersModel): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer(EMBEDDING_LAYER).output as tf.SymbolicTensor });
}
