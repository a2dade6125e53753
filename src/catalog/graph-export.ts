import type { Catalog, CatalogNode } from './catalog.js';

export interface GraphOptions {
  /** Node ids to include; default every service and resource. Edges are kept between included nodes. */
  include?: readonly string[];
}

export interface GraphJson {
  nodes: {
    id: string;
    kind: 'component' | 'resource';
    type?: string;
    owner?: string;
    tier?: string;
    system?: string;
  }[];
  edges: { from: string; to: string; type: 'dependsOn' }[];
}

export interface MermaidOptions extends GraphOptions {
  /** Draw one subgraph per system (default) or none. Owners are always classes. */
  groupBy?: 'system' | 'none';
  direction?: 'LR' | 'TD';
}

function selectNodes(catalog: Catalog, opts: GraphOptions): CatalogNode[] {
  const ids = opts.include ?? [
    ...catalog.services().map((s) => s.id),
    ...catalog.resources().map((r) => r.id),
  ];
  const out: CatalogNode[] = [];
  for (const id of ids) {
    const n = catalog.node(id) ?? (catalog.service(id) ? catalog.node(catalog.service(id)!.id) : undefined);
    if (n) out.push(n);
  }
  return out;
}

function edgesOf(catalog: Catalog, nodes: readonly CatalogNode[]): GraphJson['edges'] {
  const included = new Set(nodes.map((n) => n.id));
  const edges: GraphJson['edges'] = [];
  for (const n of nodes)
    for (const to of catalog.dependenciesOf(n.id))
      if (included.has(to)) edges.push({ from: n.id, to, type: 'dependsOn' });
  return edges;
}

/** The dependency graph as JSON: nodes with owner, tier and system; `dependsOn` edges. */
export function toGraphJson(catalog: Catalog, opts: GraphOptions = {}): GraphJson {
  const nodes = selectNodes(catalog, opts);
  return {
    nodes: nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      type: n.type,
      owner: n.owner,
      tier: n.tier,
      system: n.system,
    })),
    edges: edgesOf(catalog, nodes),
  };
}

const PALETTE = [
  '#dbeafe',
  '#dcfce7',
  '#fef9c3',
  '#fee2e2',
  '#f3e8ff',
  '#ffedd5',
  '#e0f2fe',
  '#fce7f3',
  '#ecfccb',
  '#f1f5f9',
];

/** Turns any text into a Mermaid-safe identifier, unique within one diagram. */
class IdMaker {
  private readonly used = new Map<string, string>();
  private readonly taken = new Set<string>();
  constructor(private readonly prefix: string) {}
  get(key: string): string {
    const known = this.used.get(key);
    if (known !== undefined) return known;
    const base = `${this.prefix}${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let i = 2; this.taken.has(id); i++) id = `${base}_${i}`;
    this.used.set(key, id);
    this.taken.add(id);
    return id;
  }
}

function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;')}"`;
}

/**
 * The dependency graph as a Mermaid flowchart: one subgraph per system, owners as classes,
 * databases drawn as cylinders and other resources as hexagons. Ids are sanitized.
 */
export function toMermaid(catalog: Catalog, opts: MermaidOptions = {}): string {
  const nodes = selectNodes(catalog, opts);
  const ids = new IdMaker('n_');
  const sysIds = new IdMaker('sys_');
  const ownerIds = new IdMaker('owner_');
  const lines = [`flowchart ${opts.direction ?? 'LR'}`];
  const shape = (n: CatalogNode) => {
    const id = ids.get(n.id);
    const text = label(n.kind === 'resource' ? n.name : n.id);
    if (n.kind === 'component') return `${id}[${text}]`;
    return n.type === 'database' ? `${id}[(${text})]` : `${id}{{${text}}}`;
  };
  const bySystem = new Map<string, CatalogNode[]>();
  const loose: CatalogNode[] = [];
  for (const n of nodes) {
    if (opts.groupBy !== 'none' && n.system !== undefined) {
      const list = bySystem.get(n.system) ?? [];
      list.push(n);
      bySystem.set(n.system, list);
    } else loose.push(n);
  }
  for (const [system, members] of [...bySystem].sort(([a], [b]) => a.localeCompare(b))) {
    const title = catalog.system(system)?.title ?? system;
    lines.push(`  subgraph ${sysIds.get(system)}[${label(title)}]`);
    for (const n of members) lines.push(`    ${shape(n)}`);
    lines.push('  end');
  }
  for (const n of loose) lines.push(`  ${shape(n)}`);
  for (const e of edgesOf(catalog, nodes)) lines.push(`  ${ids.get(e.from)} --> ${ids.get(e.to)}`);
  const byOwner = new Map<string, string[]>();
  for (const n of nodes) {
    if (n.owner === undefined) continue;
    const list = byOwner.get(n.owner) ?? [];
    list.push(ids.get(n.id));
    byOwner.set(n.owner, list);
  }
  [...byOwner.keys()].sort().forEach((owner, i) => {
    const cls = ownerIds.get(owner);
    lines.push(`  classDef ${cls} fill:${PALETTE[i % PALETTE.length]!},stroke:#334155`);
    lines.push(`  class ${byOwner.get(owner)!.join(',')} ${cls}`);
  });
  return lines.join('\n') + '\n';
}
