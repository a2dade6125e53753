import { invalidParameter } from './aws-error.js';

/** Reads and checks request members against the constraints of the service model. */
export type Req = Record<string, unknown>;

export function optString(req: Req, key: string, min = 0, max = Infinity): string | undefined {
  const v = req[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`Invalid type for parameter ${key}, expected a string.`);
  if (v.length < min || v.length > max) {
    throw invalidParameter(
      `Invalid length for parameter ${key}, value: ${v.length}, valid range: ${min}-${max === Infinity ? 'inf' : max}`,
    );
  }
  return v;
}

export function reqString(req: Req, key: string, min = 1, max = Infinity): string {
  const v = optString(req, key, min, max);
  if (v === undefined) throw invalidParameter(`Missing required parameter in input: "${key}"`);
  return v;
}

export function optBool(req: Req, key: string): boolean | undefined {
  const v = req[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean')
    throw invalidParameter(`Invalid type for parameter ${key}, expected a boolean.`);
  return v;
}

export function optInt(req: Req, key: string, min: number, max: number): number | undefined {
  const v = req[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw invalidParameter(`Invalid type for parameter ${key}, expected an integer.`);
  if (v < min || v > max)
    throw invalidParameter(`Invalid value for parameter ${key}, value: ${v}, valid range: ${min}-${max}`);
  return v;
}

export function optList(req: Req, key: string): unknown[] | undefined {
  const v = req[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidParameter(`Invalid type for parameter ${key}, expected a list.`);
  return v as unknown[];
}

export interface Tag {
  Key: string;
  Value: string;
}

export function optTags(req: Req, key = 'Tags'): Tag[] | undefined {
  const list = optList(req, key);
  if (!list) return undefined;
  return list.map((t, i) => {
    const tag = (t ?? {}) as Req;
    const k = optString(tag, 'Key', 1, 128);
    if (k === undefined) throw invalidParameter(`Missing required parameter in ${key}[${i}]: "Key"`);
    if (k.toLowerCase().startsWith('aws:'))
      throw invalidParameter('Tag keys that start with "aws:" are reserved for AWS use.');
    return { Key: k, Value: optString(tag, 'Value', 0, 256) ?? '' };
  });
}
