/**
 * k-nearest-neighbour accuracy of an embedding: the yardstick of the experiment (issue 5). A
 * frozen embedder trained on a subset is judged by how well its features classify held-out images
 * by vote of their nearest training images, which needs no extra training and no tfjs.
 */

export interface KnnInput {
  /** Training features, row-major, `trainLabels.length × dim`. */
  train: Float32Array;
  trainLabels: ArrayLike<number>;
  /** Test features, row-major, `testLabels.length × dim`. */
  test: Float32Array;
  testLabels: ArrayLike<number>;
  dim: number;
  /** Neighbours that vote; 10 by default, fewer when there are fewer training rows. */
  k?: number;
}

export interface KnnResult {
  /** correct / total; 0 when there is no test row. */
  accuracy: number;
  correct: number;
  total: number;
}

/**
 * Test rows handled together: each training value loaded then feeds four dot products, and four
 * test rows × two training rows = 8 running sums plus 6 loaded values still fit in x64's 16
 * floating-point registers.
 */
const ROWS = 4;
/** Bytes of training rows swept by all test rows before the next slice, to stay in the L2 cache. */
const TRAIN_SLICE_BYTES = 256 * 1024;

/**
 * Cosine similarity, top-k (a tie in similarity goes to the lower training index), majority vote (a
 * tie in votes goes to the tied label whose member ranks nearest).
 */
export function knnAccuracy(o: KnnInput): KnnResult {
  const { dim } = o;
  const nTrain = o.trainLabels.length;
  const nTest = o.testLabels.length;
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`knnAccuracy: dim must be a positive integer, got ${dim}`);
  if (o.train.length !== nTrain * dim) throw new RangeError(`knnAccuracy: train has ${o.train.length} values, expected ${nTrain} × ${dim}`);
  if (o.test.length !== nTest * dim) throw new RangeError(`knnAccuracy: test has ${o.test.length} values, expected ${nTest} × ${dim}`);
  const kWanted = o.k ?? 10;
  if (!Number.isInteger(kWanted) || kWanted < 1) throw new RangeError(`knnAccuracy: k must be a positive integer, got ${kWanted}`);
  if (nTest === 0) return { accuracy: 0, correct: 0, total: 0 };
  if (nTrain === 0) throw new RangeError('knnAccuracy: no training rows to vote');
  const k = Math.min(kWanted, nTrain);

  const train = normalizedRows(o.train, nTrain, dim);
  const test = normalizedRows(o.test, nTest, dim);
  const top = new TopK(nTest, k);
  const slice = Math.max(ROWS, Math.floor(TRAIN_SLICE_BYTES / (4 * dim)));
  for (let t0 = 0; t0 < nTrain; t0 += slice) {
    const t1 = Math.min(nTrain, t0 + slice);
    for (let q = 0; q < nTest; q += ROWS) {
      if (q + ROWS <= nTest) sweepFour(test, q, train, t0, t1, dim, top);
      else for (let r = q; r < nTest; r++) sweepOne(test, r, train, t0, t1, dim, top);
    }
  }

  let correct = 0;
  for (let q = 0; q < nTest; q++) {
    if (top.vote(q, o.trainLabels) === o.testLabels[q]) correct++;
  }
  return { accuracy: correct / nTest, correct, total: nTest };
}

/** Rows scaled to unit length, so a dot product is the cosine; a zero row stays zero (similarity 0 to all). */
function normalizedRows(x: Float32Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let r = 0, at = 0; r < n; r++, at += dim) {
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += x[at + d] * x[at + d];
    if (sum === 0) continue;
    const norm = Math.sqrt(sum);
    for (let d = 0; d < dim; d++) out[at + d] = x[at + d] / norm;
  }
  return out;
}

/**
 * Four test rows against training rows [t0, t1): the inner loop of the whole evaluation. Each sum
 * runs over d in order, exactly as sweepOne does, so a row's similarities do not depend on which
 * path computed them.
 */
function sweepFour(test: Float32Array, q: number, train: Float32Array, t0: number, t1: number, dim: number, top: TopK): void {
  const a0 = q * dim, a1 = a0 + dim, a2 = a1 + dim, a3 = a2 + dim;
  let t = t0;
  for (; t + 1 < t1; t += 2) {
    const b0 = t * dim, b1 = b0 + dim;
    let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
    for (let d = 0; d < dim; d++) {
      const x0 = train[b0 + d], x1 = train[b1 + d];
      const y0 = test[a0 + d], y1 = test[a1 + d], y2 = test[a2 + d], y3 = test[a3 + d];
      s00 += y0 * x0; s01 += y0 * x1;
      s10 += y1 * x0; s11 += y1 * x1;
      s20 += y2 * x0; s21 += y2 * x1;
      s30 += y3 * x0; s31 += y3 * x1;
    }
    top.offer(q, s00, t); top.offer(q, s01, t + 1);
    top.offer(q + 1, s10, t); top.offer(q + 1, s11, t + 1);
    top.offer(q + 2, s20, t); top.offer(q + 2, s21, t + 1);
    top.offer(q + 3, s30, t); top.offer(q + 3, s31, t + 1);
  }
  if (t < t1) for (let r = q; r < q + ROWS; r++) sweepOne(test, r, train, t, t1, dim, top);
}

function sweepOne(test: Float32Array, q: number, train: Float32Array, t0: number, t1: number, dim: number, top: TopK): void {
  const a = q * dim;
  for (let t = t0; t < t1; t++) {
    const b = t * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += test[a + d] * train[b + d];
    top.offer(q, s, t);
  }
}

/** The k best (similarity, training index) per test row, best first, in flat typed arrays. */
class TopK {
  readonly #k: number;
  readonly #sim: Float64Array;
  readonly #index: Int32Array;
  readonly #count: Int32Array;

  constructor(rows: number, k: number) {
    this.#k = k;
    this.#sim = new Float64Array(rows * k);
    this.#index = new Int32Array(rows * k);
    this.#count = new Int32Array(rows);
  }

  /**
   * Training indices arrive in ascending order for each row, so admitting only a strictly better
   * similarity, and inserting after equal ones, ranks ties by lower index.
   */
  offer(row: number, sim: number, index: number): void {
    const k = this.#k;
    const base = row * k;
    const count = this.#count[row];
    if (count === k && !(sim > this.#sim[base + k - 1])) return;
    let at = count === k ? k - 1 : count;
    while (at > 0 && this.#sim[base + at - 1] < sim) {
      this.#sim[base + at] = this.#sim[base + at - 1];
      this.#index[base + at] = this.#index[base + at - 1];
      at--;
    }
    this.#sim[base + at] = sim;
    this.#index[base + at] = index;
    if (count < k) this.#count[row] = count + 1;
  }

  /** Majority label among the row's neighbours; of tied labels, the one whose member ranks first. */
  vote(row: number, labels: ArrayLike<number>): number {
    const base = row * this.#k;
    const count = this.#count[row];
    let best = labels[this.#index[base]];
    let bestVotes = 0;
    // k is small (10), so counting by rescanning beats a Map.
    for (let i = 0; i < count; i++) {
      const label = labels[this.#index[base + i]];
      let votes = 0;
      for (let j = 0; j < count; j++) if (labels[this.#index[base + j]] === label) votes++;
      if (votes > bestVotes) {
        best = label;
        bestVotes = votes;
      }
    }
    return best;
  }
}
