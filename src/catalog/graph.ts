import type { Catalog } from './catalog.js';

/**
 * Upstream: what the service depends on (calls, stores data in). Downstream: what depends on it,
 * i.e. what breaks when it breaks.
 */
export type ImpactDirection = 'upstream' | 'downstream';

export interface ImpactOptions {
  direction?: ImpactDirection | 'both';
  /** Maximum distance from the service; default unlimited. */
  depth?: number;
}

export interface ImpactNode {
  id: string;
  kind: 'component' | 'resource' | 'unknown';
  direction: ImpactDirection;
  distance: number;
  /** Node ids from the service to this node, both included. */
  path: string[];
  owner?: string;
  tier?: string;
  system?: string;
}

export interface ImpactResult {
  service: string;
  direction: ImpactDirection | 'both';
  depth: number;
  nodes: ImpactNode[];
  /** True when nodes exist beyond `depth`. */
  truncated: boolean;
}

export class UnknownServiceError extends Error {
  constructor(
    readonly service: string,
    readonly suggestions: string[],
  ) {
    super(
      `no service or resource named "${service}" in the catalog${suggestions.length ? `; did you mean ${suggestions.join(', ')}?` : ''}`,
    );
    this.name = 'UnknownServiceError';
  }
}

function rootId(catalog: Catalog, service: string): string {
  const id = catalog.resolver.findEntity(service)?.id;
  if (id !== undefined) return id;
  throw new UnknownServiceError(service, catalog.resolver.suggest(service, 'entity', 3));
}

/** Services and resources reachable from `service` in one or both directions, with shortest paths. */
export function dependencyImpact(catalog: Catalog, service: string, opts: ImpactOptions = {}): ImpactResult {
  const root = rootId(catalog, service);
  const direction = opts.direction ?? 'both';
  const depth = opts.depth ?? Number.POSITIVE_INFINITY;
  const nodes: ImpactNode[] = [];
  let truncated = false;
  const dirs: ImpactDirection[] = direction === 'both' ? ['upstream', 'downstream'] : [direction];
  for (const dir of dirs) {
    const next = (id: string) => (dir === 'upstream' ? catalog.dependenciesOf(id) : catalog.dependentsOf(id));
    const prev = new Map<string, string>([[root, '']]);
    let frontier = [root];
    for (let distance = 1; frontier.length > 0; distance++) {
      const layer: string[] = [];
      for (const id of frontier) {
        for (const n of next(id)) {
          if (prev.has(n)) continue;
          if (distance > depth) {
            truncated = true;
            continue;
          }
          prev.set(n, id);
          layer.push(n);
        }
      }
      if (distance > depth) break;
      layer.sort();
      for (const id of layer) {
        const path = [id];
        for (let p = prev.get(id); p !== undefined && p !== ''; p = prev.get(p)) path.push(p);
        path.reverse();
        const node = catalog.node(id);
        nodes.push({
          id,
          kind: node?.kind ?? 'unknown',
          direction: dir,
          distance,
          path,
          owner: node?.owner,
          tier: node?.tier,
          system: node?.system,
        });
      }
      frontier = layer;
    }
  }
  return { service: root, direction, depth: Number.isFinite(depth) ? depth : -1, nodes, truncated };
}

export interface RestartOrder {
  /** The requested services, dependencies before dependents. */
  order: string[];
  /** Dependency cycles touching a requested service (node ids, sorted); their members are ordered by name. */
  cycles: string[][];
  /** Requested names that are not services in the catalog. */
  unknown: string[];
}

class MinHeap {
  private readonly items: { key: string; value: number }[] = [];
  get size(): number {
    return this.items.length;
  }
  push(key: string, value: number): void {
    const a = this.items;
    a.push({ key, value });
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p]!.key <= a[i]!.key) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.key < a[m]!.key) m = l;
        if (r < a.length && a[r]!.key < a[m]!.key) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top.value;
  }
}

/** Strongly connected components (iterative Tarjan); returns the component index of each node. */
function stronglyConnected(adj: number[][]): { comp: number[]; count: number } {
  const n = adj.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const comp = new Array<number>(n).fill(-1);
  const stack: number[] = [];
  let counter = 0;
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (index[start] !== -1) continue;
    const work: { v: number; i: number }[] = [{ v: start, i: 0 }];
    index[start] = low[start] = counter++;
    stack.push(start);
    onStack[start] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const { v } = frame;
      const edges = adj[v]!;
      if (frame.i < edges.length) {
        const w = edges[frame.i++]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          work.push({ v: w, i: 0 });
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent.v] = Math.min(low[parent.v]!, low[v]!);
      if (low[v] === index[v]) {
        for (;;) {
          const w = stack.pop()!;
          onStack[w] = false;
          comp[w] = count;
          if (w === v) break;
        }
        count++;
      }
    }
  }
  return { comp, count };
}

/**
 * Orders services so that each comes after everything it depends on, directly or through other
 * services and resources. Cycles are reported, never looped on: their members come out together,
 * by name.
 */
export function restartOrder(catalog: Catalog, services: readonly string[]): RestartOrder {
  const unknown: string[] = [];
  const wanted = new Set<string>();
  for (const s of services) {
    const svc = catalog.resolver.findService(s);
    if (svc) wanted.add(svc.id);
    else unknown.push(s);
  }
  const ids = [...catalog.services().map((s) => s.id), ...catalog.resources().map((r) => r.id)];
  const at = new Map(ids.map((id, i) => [id, i]));
  // Edge dependency -> dependent, so that a topological order puts dependencies first.
  const adj: number[][] = ids.map(() => []);
  const selfLoop = new Set<number>();
  ids.forEach((id, i) => {
    for (const d of catalog.dependenciesOf(id)) {
      const j = at.get(d);
      if (j === undefined) continue;
      if (j === i) selfLoop.add(i);
      adj[j]!.push(i);
    }
  });
  const { comp, count } = stronglyConnected(adj);
  const members: number[][] = Array.from({ length: count }, () => []);
  comp.forEach((c, i) => members[c]!.push(i));
  const indegree = new Array<number>(count).fill(0);
  const cadj: Set<number>[] = Array.from({ length: count }, () => new Set());
  adj.forEach((outs, i) => {
    for (const j of outs) {
      const a = comp[i]!;
      const b = comp[j]!;
      if (a !== b && !cadj[a]!.has(b)) {
        cadj[a]!.add(b);
        indegree[b]!++;
      }
    }
  });
  const keyOf = (c: number) => members[c]!.map((i) => ids[i]!).sort()[0]!;
  const heap = new MinHeap();
  for (let c = 0; c < count; c++) if (indegree[c] === 0) heap.push(keyOf(c), c);
  const order: string[] = [];
  const cycles: string[][] = [];
  while (heap.size > 0) {
    const c = heap.pop();
    const names = members[c]!.map((i) => ids[i]!).sort();
    const requested = names.filter((n) => wanted.has(n));
    order.push(...requested);
    const isCycle = names.length > 1 || selfLoop.has(members[c]![0]!);
    if (isCycle && requested.length > 0) cycles.push(names);
    for (const d of cadj[c]!) if (--indegree[d]! === 0) heap.push(keyOf(d), d);
  }
  return { order, cycles, unknown };
}
