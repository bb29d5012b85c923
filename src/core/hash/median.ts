/**
 * numpy.median of 64 values: the mean of the 32nd and 33rd smallest, computed as numpy does,
 * (a + b) / 2 in float64, so a value equal to the median compares the same way as in imagehash.
 */
export function median64(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  return (sorted[31] + sorted[32]) / 2;
}
