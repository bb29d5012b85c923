/**
 * Turning pairwise distances into groups.
 *
 * Single linkage (connected components of "distance ≤ t") chains: A~B and B~C put A and C in one
 * group even when A and C look nothing alike. We cut a complete-linkage hierarchy at the threshold
 * instead, so every two members of a group are within t of each other. Only the sparse edge list
 * of pairs within t is needed: a missing edge means "farther than t", and complete linkage never
 * merges two clusters joined by such a pair, so the distance matrix is never materialised.
 *
 * Work is split by connected component of the threshold graph; a component of size 2, or one
 * where every pair is an edge (the common case for a burst of near-identical photos), is a group
 * as is. Only the rest run the agglomeration, whose cost is O(E log E) in the component's edges.
 */

export interface Edge {
  a: number;
  b: number;
  d: number;
}

/** Groups (at least two members each) sorted largest first, then by smallest member. */
function sortGroups(groups: number[][]): number[][] {
  for (const g of groups) g.sort((x, y) => x - y);
  return groups.sort((x, y) => y.length - x.length || x[0] - y[0]);
}

/**
 * Items with the same content hash. Empty strings (no hash: unreadable file) never match.
 * Returns groups of ≥ 2 indices into `sha256s`.
 */
export function exactGroups(sha256s: readonly string[]): number[][] {
  const byHash = new Map<string, number[]>();
  for (let i = 0; i < sha256s.length; i++) {
    const h = sha256s[i];
    if (!h) continue;
    const list = byHash.get(h);
    if (list === undefined) byHash.set(h, [i]);
    else list.push(i);
  }
  const groups: number[][] = [];
  for (const list of byHash.values()) if (list.length > 1) groups.push(list);
  return sortGroups(groups);
}

class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]]; // path halving
      x = p[x];
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // The smaller root wins so the representative is deterministic.
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

/**
 * Complete-linkage clusters of n items, cut at `threshold`: every two members of a returned group
 * have an edge with d ≤ threshold. Edges with d > threshold, self-edges and out-of-range indices
 * are ignored; duplicate edges keep the smallest d. Merges happen smallest distance first; ties go
 * to the pair of clusters whose smallest members are smallest (lexicographically), so the result
 * is a pure function of the edge set.
 *
 * Returns groups of ≥ 2 item indices (ascending), largest group first, then by smallest member.
 */
export function groupWithinThreshold(
  n: number,
  edges: readonly Edge[],
  threshold: number,
): number[][] {
  // Normalise: a < b, d within threshold, one edge per pair.
  const best = new Map<number, number>();
  for (const e of edges) {
    if (!(e.d <= threshold)) continue;
    let a = e.a;
    let b = e.b;
    if (a === b || a < 0 || b < 0 || a >= n || b >= n) continue;
    if (a > b) [a, b] = [b, a];
    const key = a * n + b;
    const prev = best.get(key);
    if (prev === undefined || e.d < prev) best.set(key, e.d);
  }
  if (best.size === 0) return [];

  const uf = new UnionFind(n);
  for (const key of best.keys()) uf.union(Math.floor(key / n), key % n);

  // Bucket nodes and edges by component root.
  const compNodes = new Map<number, number[]>();
  const compEdges = new Map<number, number[]>(); // flat triples a, b, d
  for (const [key, d] of best) {
    const a = Math.floor(key / n);
    const b = key % n;
    const r = uf.find(a);
    let list = compEdges.get(r);
    if (list === undefined) compEdges.set(r, (list = []));
    list.push(a, b, d);
  }
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    if (!compEdges.has(r)) continue;
    let list = compNodes.get(r);
    if (list === undefined) compNodes.set(r, (list = []));
    list.push(i); // ascending, because i ascends
  }

  const groups: number[][] = [];
  for (const [r, nodes] of compNodes) {
    const flat = compEdges.get(r)!;
    const k = nodes.length;
    const m = flat.length / 3;
    if (m === (k * (k - 1)) / 2) {
      // Every pair is within threshold: complete linkage ends with one cluster (also covers k = 2).
      groups.push(nodes);
    } else {
      for (const g of completeLinkage(nodes, flat)) groups.push(g);
    }
  }
  return sortGroups(groups);
}

/** A candidate merge in the heap; stale once either cluster's version moves on. */
interface Candidate {
  d: number;
  lo: number; // smaller of the two clusters' smallest members (local index)
  hi: number;
  x: number; // cluster ids
  y: number;
  vx: number;
  vy: number;
}

function before(p: Candidate, q: Candidate): boolean {
  return p.d !== q.d ? p.d < q.d : p.lo !== q.lo ? p.lo < q.lo : p.hi < q.hi;
}

class MinHeap {
  private items: Candidate[] = [];
  get size(): number {
    return this.items.length;
  }
  push(c: Candidate): void {
    const h = this.items;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Candidate {
    const h = this.items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let s = i;
        if (l < h.length && before(h[l], h[s])) s = l;
        if (r < h.length && before(h[r], h[s])) s = r;
        if (s === i) break;
        [h[i], h[s]] = [h[s], h[i]];
        i = s;
      }
    }
    return top;
  }
}

// Between two clusters we keep (number of edges, largest edge distance) packed in one number:
// count * 128 + max, since distances are ≤ 64. Complete-linkage distance between clusters A and B
// is that max when count = |A|·|B| (all pairs present), and "> threshold" otherwise.
const PACK = 128;

/**
 * Sparse complete-linkage agglomeration of one connected component.
 * `nodes` are global indices in ascending order; `flat` holds edges as global (a, b, d) triples.
 */
function completeLinkage(nodes: number[], flat: number[]): number[][] {
  const k = nodes.length;
  const local = new Map<number, number>();
  for (let i = 0; i < k; i++) local.set(nodes[i], i);

  const size = new Int32Array(k).fill(1);
  const minMember = new Int32Array(k);
  const version = new Int32Array(k);
  const alive = new Uint8Array(k).fill(1);
  // Members as linked lists so merging is O(1).
  const head = new Int32Array(k);
  const tail = new Int32Array(k);
  const next = new Int32Array(k).fill(-1);
  const nbr: Map<number, number>[] = [];
  for (let i = 0; i < k; i++) {
    minMember[i] = i;
    head[i] = i;
    tail[i] = i;
    nbr.push(new Map());
  }

  const heap = new MinHeap();
  const offer = (x: number, y: number, d: number): void => {
    const mx = minMember[x];
    const my = minMember[y];
    heap.push({
      d,
      lo: mx < my ? mx : my,
      hi: mx < my ? my : mx,
      x,
      y,
      vx: version[x],
      vy: version[y],
    });
  };

  for (let e = 0; e < flat.length; e += 3) {
    const u = local.get(flat[e])!;
    const v = local.get(flat[e + 1])!;
    const d = flat[e + 2];
    nbr[u].set(v, PACK + d);
    nbr[v].set(u, PACK + d);
    offer(u, v, d);
  }

  while (heap.size > 0) {
    const c = heap.pop();
    if (!alive[c.x] || !alive[c.y] || version[c.x] !== c.vx || version[c.y] !== c.vy) continue;
    // Keep the cluster with more neighbours and fold the other in (small-to-large).
    let s = c.x;
    let o = c.y;
    if (nbr[o].size > nbr[s].size) [s, o] = [o, s];
    alive[o] = 0;
    size[s] += size[o];
    if (minMember[o] < minMember[s]) minMember[s] = minMember[o];
    version[s]++;
    next[tail[s]] = head[o];
    tail[s] = tail[o];
    const ns = nbr[s];
    ns.delete(o);
    for (const [x, vo] of nbr[o]) {
      if (x === s) continue;
      const nx = nbr[x];
      nx.delete(o);
      const vs = ns.get(x);
      let count = Math.floor(vo / PACK);
      let max = vo % PACK;
      if (vs !== undefined) {
        count += Math.floor(vs / PACK);
        max = Math.max(max, vs % PACK);
      }
      const packed = count * PACK + max;
      ns.set(x, packed);
      nx.set(s, packed);
      // Only a neighbour of the absorbed cluster can be fully linked to the merged one: for any
      // other neighbour the edge count did not grow while the required count did.
      if (count === size[s] * size[x]) offer(s, x, max);
    }
    nbr[o] = new Map();
  }

  const groups: number[][] = [];
  for (let i = 0; i < k; i++) {
    if (!alive[i] || size[i] < 2) continue;
    const g: number[] = [];
    for (let j = head[i]; j !== -1; j = next[j]) g.push(nodes[j]);
    groups.push(g);
  }
  return groups;
}

/**
 * Keeper-centred groups ("leader" clustering): items are visited best first by `rank` (the keeper
 * rule); an unassigned item that has unassigned neighbours within the threshold becomes a keeper
 * and takes all of them. So every member is within the threshold of its group's keeper — the
 * promise the review makes — while two members may be up to twice the threshold apart. Compared
 * with complete linkage this keeps the variants of one photo together (a crop and a rotation of the
 * same original are each close to it but not to each other), and a chain A~B~C never joins A and C
 * unless both are within the threshold of the keeper.
 *
 * `rank[i]` orders the items (smaller is better; ties by index). Returns groups of ≥ 2 item indices
 * with the keeper first, then by distance to the keeper and rank; largest group first.
 */
export function groupAroundKeepers(
  n: number,
  edges: readonly Edge[],
  threshold: number,
  rank: ArrayLike<number>,
): number[][] {
  const neighbours: { j: number; d: number }[][] = Array.from({ length: n }, () => []);
  for (const e of edges) {
    if (!(e.d <= threshold) || e.a === e.b || e.a < 0 || e.b < 0 || e.a >= n || e.b >= n) continue;
    neighbours[e.a].push({ j: e.b, d: e.d });
    neighbours[e.b].push({ j: e.a, d: e.d });
  }
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => neighbours[i].length > 0);
  order.sort((x, y) => rank[x] - rank[y] || x - y);
  const assigned = new Uint8Array(n);
  const groups: number[][] = [];
  for (const leader of order) {
    if (assigned[leader]) continue;
    const members = neighbours[leader].filter(({ j }) => !assigned[j]);
    if (members.length === 0) continue;
    // Several edges between the same pair (from duplicate input) keep their smallest distance.
    const best = new Map<number, number>();
    for (const { j, d } of members) best.set(j, Math.min(d, best.get(j) ?? Infinity));
    const ids = [...best.keys()].sort((x, y) => best.get(x)! - best.get(y)! || rank[x] - rank[y] || x - y);
    assigned[leader] = 1;
    for (const j of ids) assigned[j] = 1;
    groups.push([leader, ...ids]);
  }
  return groups.sort((x, y) => y.length - x.length || rank[x[0]] - rank[y[0]]);
}
