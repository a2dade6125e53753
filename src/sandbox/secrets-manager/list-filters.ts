import { invalidParameter } from './aws-error.js';
import type { Tag } from './request-fields.js';

/** A ListSecrets filter: values are OR'd, a leading `!` negates a value. */
export interface SecretFilter {
  key: 'description' | 'name' | 'tag-key' | 'tag-value' | 'primary-region' | 'owning-service' | 'all';
  values: string[];
}

interface Filterable {
  name: string;
  description?: string;
  tags: Tag[];
}

const KEYS = new Set([
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
]);

export function parseFilters(list: unknown[] | undefined): SecretFilter[] {
  if (!list) return [];
  if (list.length > 10) throw invalidParameter('You can specify at most 10 filters.');
  return list.map((raw) => {
    const f = (raw ?? {}) as Record<string, unknown>;
    if (typeof f.Key !== 'string' || !KEYS.has(f.Key))
      throw invalidParameter(`Invalid filter key: ${String(f.Key)}`);
    const values = f.Values;
    if (
      !Array.isArray(values) ||
      values.length < 1 ||
      values.length > 10 ||
      values.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 512)
    ) {
      throw invalidParameter('Each filter needs 1 to 10 non-empty Values.');
    }
    return { key: f.Key as SecretFilter['key'], values: values as string[] };
  });
}

/**
 * Whether a secret passes one filter. Matching is by prefix: case-sensitive except for
 * `description` and `all`; `all` splits the value into words and looks at every attribute.
 */
export function filterMatches(filter: SecretFilter, s: Filterable, region: string): boolean {
  return filter.values.some((raw) => {
    const negate = raw.startsWith('!');
    const value = negate ? raw.slice(1) : raw;
    const hit = attributeMatches(filter.key, value, s, region);
    return negate ? !hit : hit;
  });
}

function attributeMatches(key: SecretFilter['key'], value: string, s: Filterable, region: string): boolean {
  const prefix = (candidates: (string | undefined)[], caseless: boolean) =>
    candidates.some(
      (c) =>
        c !== undefined && (caseless ? c.toLowerCase().startsWith(value.toLowerCase()) : c.startsWith(value)),
    );
  switch (key) {
    case 'name':
      return prefix([s.name], false);
    case 'description':
      return prefix([s.description], true);
    case 'tag-key':
      return prefix(
        s.tags.map((t) => t.Key),
        false,
      );
    case 'tag-value':
      return prefix(
        s.tags.map((t) => t.Value),
        false,
      );
    case 'primary-region':
      return prefix([region], false);
    case 'owning-service':
      return false;
    case 'all': {
      const words = value.split(/\s+/).filter(Boolean);
      const attributes = [s.name, s.description, ...s.tags.flatMap((t) => [t.Key, t.Value])].flatMap((a) =>
        a ? a.split(/[\s/_+=.@-]+/).concat(a) : [],
      );
      return words.some((w) => attributes.some((a) => a.toLowerCase().startsWith(w.toLowerCase())));
    }
  }
}
