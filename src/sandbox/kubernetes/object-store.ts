import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { FieldManagers } from './managed-fields.js';
import { findByKind, type ResourceType } from './resources.js';
import { clone, type KubeObject } from './types.js';

/**
 * The emulator's etcd: objects by resource type, namespace and name, with one global
 * resourceVersion counter. Everything goes in and out as copies.
 */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
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
    for (const [k, o] of this.objects) {
      if (!k.startsWith(prefix)) continue;
      if (rt.namespaced && ns !== undefined && o.metadata.namespace !== ns) continue;
      out.push(this.render(rt, o));
    }
    return out.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
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
    this.objects.set(this.key(rt, o.metadata.namespace, o.metadata.name), o);
    return this.render(rt, o);
  }

  delete(rt: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const k = this.key(rt, ns, name);
    const o = this.objects.get(k);
    if (!o) return undefined;
    this.objects.delete(k);
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
