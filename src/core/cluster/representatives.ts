/**
 * The image to keep from each cluster (Birodkar et al. 2019, §3.2 step 4): the member whose
 * embedding is closest, in cosine distance, to the cluster centre.
 *
 * "Centre" follows the reference script (reference/scripts/cluster_ref.py, `representatives`):
 * the arithmetic mean of the RAW embeddings as given (`X64[idx].mean(0)`), not of the normalised
 * ones, and then `cdist(members, centre, 'cosine')`, first minimum on ties (= smallest index).
 * The two centres point in different directions whenever member norms differ, so this matters.
 * To reproduce the reference's rounding as closely as possible the sum runs over members in
 * increasing index order (numpy's axis-0 reduction), is divided by the count, and the distance
 * is 1 − (x·c) / (‖x‖‖c‖) with the norms taken separately, as scipy's cdist does.
 *
 * A zero member or a zero centre (possible only with zero or exactly cancelling vectors) has
 * cosine 0 with everything — distance 1, as in cosine.ts — instead of scipy's NaN.
 */

/**
 * For labels 0..k−1 (e.g. from cutToK), the representative member index of each cluster.
 * X is n × d row-major (float32 or float64); memory O(n + d) beyond the input.
 */
export function representatives(X: ArrayLike<number>, n: number, d: number, labels: Int32Array): Int32Array {
  if (X.length !== n * d) throw new RangeError(`representatives: ${X.length} values, expected ${n}×${d}`);
  if (labels.length !== n) throw new RangeError(`representatives: ${labels.length} labels for ${n} items`);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (c < 0) throw new RangeError(`representatives: negative label at ${i}`);
    if (c + 1 > k) k = c + 1;
  }
  // Members grouped by cluster, increasing index within each (counting sort).
  const start = new Int32Array(k + 1);
  for (let i = 0; i < n; i++) start[labels[i] + 1]++;
  for (let c = 0; c < k; c++) start[c + 1] += start[c];
  const members = new Int32Array(n);
  const fill = start.slice(0, k);
  for (let i = 0; i < n; i++) members[fill[labels[i]]++] = i;

  const reps = new Int32Array(k).fill(-1);
  const centre = new Float64Array(d);
  for (let c = 0; c < k; c++) {
    const s = start[c];
    const e = start[c + 1];
    if (s === e) throw new RangeError(`representatives: cluster ${c} is empty (labels must be 0..k−1)`);
    if (e - s === 1) {
      reps[c] = members[s];
      continue;
    }
    centre.fill(0);
    for (let p = s; p < e; p++) {
      const o = members[p] * d;
      for (let q = 0; q < d; q++) centre[q] += X[o + q];
    }
    const count = e - s;
    let cc = 0;
    for (let q = 0; q < d; q++) {
      centre[q] /= count;
      cc += centre[q] * centre[q];
    }
    const cNorm = Math.sqrt(cc);
    let best = members[s]; // stays if every distance is NaN (non-finite input)
    let bestDist = Infinity;
    for (let p = s; p < e; p++) {
      const o = members[p] * d;
      let dot = 0;
      let xx = 0;
      for (let q = 0; q < d; q++) {
        const v = X[o + q];
        dot += v * centre[q];
        xx += v * v;
      }
      const denom = Math.sqrt(xx) * cNorm;
      let cos = denom === 0 ? 0 : dot / denom;
      if (cos > 1) cos = 1;
      else if (cos < -1) cos = -1;
      const dist = 1 - cos;
      if (dist < bestDist) {
        bestDist = dist;
        best = members[p];
      }
    }
    reps[c] = best;
  }
  return reps;
}
