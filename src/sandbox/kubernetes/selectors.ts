import { badRequest } from './status.js';
import { isObject } from './types.js';

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** A parsed label selector (`app=web,tier in (a,b),!canary`), as the API server accepts it. */
export class LabelSelector {
  private constructor(private readonly reqs: Requirement[]) {}

  static parse(text: string | null | undefined): LabelSelector {
    if (!text || !text.trim()) return new LabelSelector([]);
    const reqs: Requirement[] = [];
    for (const part of splitTopLevel(text)) {
      const p = part.trim();
      if (!p) continue;
      let m: RegExpMatchArray | null;
      if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
        reqs.push({
          op: m[2] as 'in' | 'notin',
          key: m[1]!,
          values: m[3]!
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean),
        });
      } else if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
        reqs.push({ op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! });
      } else if ((m = p.match(/^!\s*([\w./-]+)$/))) {
        reqs.push({ op: 'notexists', key: m[1]! });
      } else if ((m = p.match(/^([\w./-]+)$/))) {
        reqs.push({ op: 'exists', key: m[1]! });
      } else {
        throw badRequest(`unable to parse requirement: found '${p}', expected: valid label selector`);
      }
    }
    return new LabelSelector(reqs);
  }

  /** From a LabelSelector object (matchLabels / matchExpressions). */
  static fromObject(sel: unknown): LabelSelector {
    const reqs: Requirement[] = [];
    if (!isObject(sel)) return new LabelSelector(reqs);
    if (isObject(sel.matchLabels))
      for (const [k, v] of Object.entries(sel.matchLabels)) reqs.push({ op: 'eq', key: k, value: String(v) });
    if (Array.isArray(sel.matchExpressions)) {
      for (const e of sel.matchExpressions as { key: string; operator: string; values?: string[] }[]) {
        const op = e.operator.toLowerCase();
        if (op === 'in' || op === 'notin') reqs.push({ op, key: e.key, values: e.values ?? [] });
        else if (op === 'exists') reqs.push({ op: 'exists', key: e.key });
        else reqs.push({ op: 'notexists', key: e.key });
      }
    }
    return new LabelSelector(reqs);
  }

  get empty(): boolean {
    return this.reqs.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    const l = labels ?? {};
    return this.reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      switch (r.op) {
        case 'eq':
          return has && l[r.key] === r.value;
        case 'neq':
          return !has || l[r.key] !== r.value;
        case 'in':
          return has && r.values.includes(l[r.key]!);
        case 'notin':
          return !has || !r.values.includes(l[r.key]!);
        case 'exists':
          return has;
        case 'notexists':
          return !has;
      }
    });
  }

  /** `app=web,tier=front`: how Scale.status.selector spells an equality selector. */
  static format(matchLabels: Record<string, string>): string {
    return Object.entries(matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
}

function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}

/** A field selector (`metadata.name=x,involvedObject.kind!=Pod`); fields are dotted paths into the object. */
export class FieldSelector {
  private constructor(private readonly reqs: { path: string[]; value: string; negate: boolean }[]) {}

  static parse(text: string | null | undefined): FieldSelector {
    if (!text || !text.trim()) return new FieldSelector([]);
    const reqs = text.split(',').map((p) => {
      const m = p.trim().match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
      if (!m) throw badRequest(`invalid selector: '${p}'; can't understand '${p}'`);
      return { path: m[1]!.split('.'), value: m[3]!, negate: m[2] === '!=' };
    });
    return new FieldSelector(reqs);
  }

  matches(obj: unknown): boolean {
    return this.reqs.every((r) => {
      let cur: unknown = obj;
      for (const seg of r.path) cur = isObject(cur) ? cur[seg] : undefined;
      const actual =
        typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean' ? String(cur) : '';
      return r.negate ? actual !== r.value : actual === r.value;
    });
  }
}
