import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { FieldManagers } from './managed-fields.js';
import { findByKind, type ResourceType } from './resources.js';
import { clone, type KubeObject } from './types.js';

/**
 * The emulator's etcd: objects by resource type, namespace and name, with one global
 * resourceVersion counter. Everything goes in and out as copies.
 */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  /** The same objects bucketed by type and namespace, so that a list does not scan every object. */
  private readonly buckets = new Map<string, Map<string, KubeObject>>();
  private readonly managers = new Map<string, FieldManagers>();
  private rv = 1000;

  constructor(private readonly clock: Clock) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  private key(rt: ResourceType, ns: string | undefined, name: string): string {
    return `${rt.group}/${rt.version}/${rt.plural}/${rt.namespaced ? (ns ?? '') : ''}/${name}`;
  }

  get(rt: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(rt, ns, name));
    return o ? this.render(rt, o) : undefined;
  }

  list(rt: ResourceType, ns?: string): KubeObject[] {
    const prefix = `${rt.group}/${rt.version}/${rt.plural}/`;
    const out: KubeObject[] = [];
    const scoped = rt.namespaced && ns !== undefined;
    for (const [b, objs] of this.buckets) {
      if (scoped ? b !== `${prefix}${ns}` : !b.startsWith(prefix)) continue;
      for (const o of objs.values()) out.push(this.render(rt, o));
    }
    return out.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  }

  private bucket(rt: ResourceType, ns: string | undefined): Map<string, KubeObject> {
    const b = `${rt.group}/${rt.version}/${rt.plural}/${rt.namespaced ? (ns ?? '') : ''}`;
    let m = this.buckets.get(b);
    if (!m) this.buckets.set(b, (m = new Map<string, KubeObject>()));
    return m;
  }

  /** Stores an object, stamping uid, creationTimestamp and a fresh resourceVersion. Returns the stored copy. */
  put(rt: ResourceType, obj: KubeObject): KubeObject {
    const o = clone(obj);
    o.apiVersion = rt.group ? `${rt.group}/${rt.version}` : rt.version;
    o.kind = rt.kind;
    if (!rt.namespaced) delete o.metadata.namespace;
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= this.now();
    o.metadata.resourceVersion = String(++this.rv);
    delete o.metadata.managedFields;
    const k = this.key(rt, o.metadata.namespace, o.metadata.name);
    this.objects.set(k, o);
    this.bucket(rt, o.metadata.namespace).set(k, o);
    return this.render(rt, o);
  }

  delete(rt: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const k = this.key(rt, ns, name);
    const o = this.objects.get(k);
    if (!o) return undefined;
    this.objects.delete(k);
    this.bucket(rt, ns).delete(k);
    this.managers.delete(k);
    this.rv++;
    return clone(o);
  }

  fieldManagers(rt: ResourceType, ns: string | undefined, name: string): FieldManagers {
    const k = this.key(rt, ns, name);
    let m = this.managers.get(k);
    if (!m) this.managers.set(k, (m = new FieldManagers()));
    return m;
  }

  /** Puts a raw object by its apiVersion/kind (seeding and test setup). */
  putRaw(obj: KubeObject): KubeObject {
    const rt = findByKind(obj.apiVersion, obj.kind);
    if (!rt) throw new Error(`unknown kind ${obj.apiVersion} ${obj.kind}`);
    return this.put(rt, obj);
  }

  now(): string {
    return this.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  private render(rt: ResourceType, o: KubeObject): KubeObject {
    const c = clone(o);
    const m = this.managers.get(this.key(rt, o.metadata.namespace, o.metadata.name));
    const rendered = m?.render();
    if (rendered && rendered.length > 0) c.metadata.managedFields = rendered;
    return c;
  }
}

function sortKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
