/**
 * `find` with full path compression over a parent array (parent[v] === v at a root). Linkage and
 * the cuts replay merges through it, so a chain of n merges stays near O(n).
 */
export function compressingFind(parent: Int32Array): (v: number) => number {
  return (v: number): number => {
    let root = v;
    while (parent[root] !== root) root = parent[root];
    while (parent[v] !== root) {
      const next = parent[v];
      parent[v] = root;
      v = next;
    }
    return root;
  };
}
