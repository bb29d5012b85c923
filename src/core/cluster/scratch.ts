/**
 * Grow-only working arrays, handed out as views of the requested length. A semantic load
 * clusters its classes one after another, and each needs the same large temporaries (unit rows,
 * the condensed matrix: 100 MB at 5,000 items). Fresh arrays per class are garbage that V8
 * collects late in a busy worker (two 5,000-image classes at d 1,792 left the cluster worker
 * holding 436 MB of buffers, of which 71 MB were live), so a load reuses one set, grown to its
 * largest class. A view is only valid until the next request
 * under the same name, and its contents are whatever was there: callers write every element.
 */
export class Scratch {
  private readonly float64s = new Map<string, Float64Array>();
  private readonly float32s = new Map<string, Float32Array>();

  float64(name: string, length: number): Float64Array {
    let buffer = this.float64s.get(name);
    if (!buffer || buffer.length < length) this.float64s.set(name, (buffer = new Float64Array(length)));
    return buffer.subarray(0, length);
  }

  float32(name: string, length: number): Float32Array {
    let buffer = this.float32s.get(name);
    if (!buffer || buffer.length < length) this.float32s.set(name, (buffer = new Float32Array(length)));
    return buffer.subarray(0, length);
  }
}
