import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { badRequest, ddTimestamp, isRecord, jsonApiAttributes, notFound } from './http-io.js';
import { ACTING_USER } from './org.js';

/** An incident to seed the emulator with. */
export interface IncidentSeed {
  id?: string;
  title: string;
  state?: 'active' | 'stable' | 'resolved';
  severity?: string;
  customer_impacted?: boolean;
  summary?: string;
  services?: string[];
  commander_uuid?: string;
  created?: string;
}

type FieldValue = { type: string; value: unknown };

export interface StoredIncident {
  id: string;
  publicId: number;
  title: string;
  customerImpacted: boolean;
  customerImpactScope: string | null;
  customerImpactStart: Date | null;
  customerImpactEnd: Date | null;
  notificationHandles: unknown[] | null;
  fields: Record<string, FieldValue>;
  created: Date;
  modified: Date;
  detected: Date;
  resolved: Date | null;
  commander: string | null;
}

const FIELD_TYPES: Record<string, string> = {
  teams: 'autocomplete',
  severity: 'dropdown',
  state: 'dropdown',
  detection_method: 'dropdown',
  root_cause: 'textbox',
  summary: 'textbox',
  services: 'autocomplete',
  slug: 'textbox',
};
const SEVERITIES = new Set(['UNKNOWN', 'SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4', 'SEV-5']);
const STATES = new Set(['active', 'stable', 'resolved']);
const INCIDENT_TYPE = '8d3f1c1e-2c55-4f8e-9a3b-5b7e6d4c2a10';
const USER_DEFINED_FIELDS = Object.keys(FIELD_TYPES).map((name, i) => ({
  type: 'user_defined_field',
  id: `0d1e2f3a-0000-4000-8000-00000000000${i}`,
}));

/** The v2 incidents collection: create, list (offset pagination), get, update, delete. */
export class IncidentStore {
  private readonly incidents = new Map<string, StoredIncident>();
  private nextPublicId = 101;

  constructor(
    private readonly clock: Clock,
    seeds: IncidentSeed[] = [],
  ) {
    for (const s of seeds) {
      const i = this.newIncident(
        s.title,
        s.customer_impacted ?? false,
        s.created ? new Date(s.created) : undefined,
        s.id,
      );
      if (s.severity) i.fields.severity = { type: 'dropdown', value: s.severity };
      if (s.state) i.fields.state = { type: 'dropdown', value: s.state };
      if (s.state === 'resolved') i.resolved = i.created;
      if (s.summary) i.fields.summary = { type: 'textbox', value: s.summary };
      if (s.services) i.fields.services = { type: 'autocomplete', value: s.services };
      if (s.commander_uuid) i.commander = s.commander_uuid;
    }
  }

  all(): StoredIncident[] {
    return [...this.incidents.values()];
  }

  private newIncident(title: string, customerImpacted: boolean, at?: Date, id?: string): StoredIncident {
    const now = at ?? this.clock.now();
    const publicId = this.nextPublicId++;
    const i: StoredIncident = {
      id: id ?? randomUUID(),
      publicId,
      title,
      customerImpacted,
      customerImpactScope: null,
      customerImpactStart: null,
      customerImpactEnd: null,
      notificationHandles: null,
      fields: {
        teams: { type: 'autocomplete', value: null },
        severity: { type: 'dropdown', value: 'UNKNOWN' },
        state: { type: 'dropdown', value: 'active' },
        detection_method: { type: 'dropdown', value: 'unknown' },
        root_cause: { type: 'textbox', value: null },
        summary: { type: 'textbox', value: null },
        services: { type: 'autocomplete', value: null },
        slug: { type: 'textbox', value: `IR-${publicId}` },
      },
      created: now,
      modified: now,
      detected: now,
      resolved: null,
      commander: null,
    };
    this.incidents.set(i.id, i);
    return i;
  }

  // ---- HTTP operations -------------------------------------------------------------------------

  create(body: unknown): unknown {
    const { data, attributes: a } = jsonApiAttributes(body);
    if (data.type !== 'incidents') throw badRequest("Invalid type: expected 'incidents'");
    if (typeof a.title !== 'string' || a.title.trim() === '') throw badRequest('title is required');
    if (typeof a.customer_impacted !== 'boolean') throw badRequest('customer_impacted is required');
    const i = this.newIncident(a.title, a.customer_impacted);
    try {
      this.apply(i, a, data.relationships);
    } catch (e) {
      this.incidents.delete(i.id);
      throw e;
    }
    return { data: this.render(i, true) };
  }

  list(q: URLSearchParams): unknown {
    const sizeParam = q.get('page[size]');
    const size = intParam(sizeParam, 'page[size]') ?? 10;
    if (size < 1 || size > 100) throw badRequest('page[size] must be between 1 and 100');
    const offset = intParam(q.get('page[offset]'), 'page[offset]') ?? 0;
    const items = this.all().sort(
      (a, b) => a.created.getTime() - b.created.getTime() || a.publicId - b.publicId,
    );
    const page = items.slice(offset, offset + size);
    const pagination: Record<string, number> = { offset, size: page.length };
    // The real API announces a next offset after any page that is full or that had no explicit size.
    if (page.length > 0 && (page.length === size || sizeParam === null))
      pagination.next_offset = offset + page.length;
    return { data: page.map((i) => this.render(i, false)), meta: { pagination } };
  }

  getOne(id: string): unknown {
    return { data: this.render(this.find(id), false) };
  }

  update(id: string, body: unknown): unknown {
    const i = this.find(id);
    const { data, attributes: a } = jsonApiAttributes(body);
    if (data.type !== 'incidents') throw badRequest("Invalid type: expected 'incidents'");
    if (a.title !== undefined) {
      if (typeof a.title !== 'string' || a.title.trim() === '')
        throw badRequest('title must be a non-empty string');
      i.title = a.title;
    }
    if (a.customer_impacted !== undefined) {
      if (typeof a.customer_impacted !== 'boolean') throw badRequest('customer_impacted must be a boolean');
      i.customerImpacted = a.customer_impacted;
    }
    this.apply(i, a, data.relationships);
    i.modified = this.clock.now();
    return { data: this.render(i, false) };
  }

  delete(id: string): void {
    this.incidents.delete(this.find(id).id);
  }

  private find(id: string): StoredIncident {
    const i = this.incidents.get(id) ?? [...this.incidents.values()].find((x) => String(x.publicId) === id);
    if (!i) throw notFound('Not Found');
    return i;
  }

  private apply(i: StoredIncident, a: Record<string, unknown>, relationships: unknown): void {
    const now = this.clock.now();
    if (a.fields !== undefined) {
      if (!isRecord(a.fields)) throw badRequest('fields must be an object');
      for (const [name, raw] of Object.entries(a.fields)) {
        if (!(name in FIELD_TYPES) || name === 'slug') throw badRequest(`Unknown incident field: ${name}`);
        if (!isRecord(raw) || !('value' in raw)) throw badRequest(`fields.${name} must have a value`);
        const value = raw.value;
        if (name === 'severity' && (typeof value !== 'string' || !SEVERITIES.has(value)))
          throw badRequest(`Invalid severity: ${String(value)}`);
        if (name === 'state' && (typeof value !== 'string' || !STATES.has(value)))
          throw badRequest(`Invalid state: ${String(value)}`);
        i.fields[name] = { type: FIELD_TYPES[name] as string, value };
        if (name === 'state') i.resolved = value === 'resolved' ? (i.resolved ?? now) : null;
      }
    }
    if (a.customer_impact_scope !== undefined)
      i.customerImpactScope = typeof a.customer_impact_scope === 'string' ? a.customer_impact_scope : null;
    if (a.customer_impact_start !== undefined)
      i.customerImpactStart =
        typeof a.customer_impact_start === 'string' ? new Date(a.customer_impact_start) : null;
    if (a.customer_impact_end !== undefined)
      i.customerImpactEnd =
        typeof a.customer_impact_end === 'string' ? new Date(a.customer_impact_end) : null;
    if (a.notification_handles !== undefined)
      i.notificationHandles = Array.isArray(a.notification_handles) ? a.notification_handles : null;
    if (isRecord(relationships) && isRecord(relationships.commander_user)) {
      const d = relationships.commander_user.data;
      i.commander = isRecord(d) && typeof d.id === 'string' ? d.id : null;
    }
  }

  private render(i: StoredIncident, expanded: boolean): unknown {
    const secs = (a: Date, b: Date | null): number =>
      b === null ? 0 : Math.max(0, Math.round((b.getTime() - a.getTime()) / 1000));
    const user = { type: 'users', id: ACTING_USER.uuid };
    const expandedUser = {
      data: {
        ...user,
        attributes: {
          uuid: ACTING_USER.uuid,
          handle: ACTING_USER.handle,
          email: ACTING_USER.email,
          name: ACTING_USER.name,
          icon: '',
        },
      },
    };
    const attributes: Record<string, unknown> = {
      public_id: i.publicId,
      incident_type_uuid: INCIDENT_TYPE,
      title: i.title,
      resolved: i.resolved ? ddTimestamp(i.resolved) : null,
      customer_impact_scope: i.customerImpactScope,
      customer_impact_start: i.customerImpactStart ? ddTimestamp(i.customerImpactStart) : null,
      customer_impact_end: i.customerImpactEnd ? ddTimestamp(i.customerImpactEnd) : null,
      customer_impacted: i.customerImpacted,
      notification_handles: i.notificationHandles,
      ...(expanded ? { last_modified_by: expandedUser } : {}),
      last_modified_by_uuid: expanded ? null : ACTING_USER.uuid,
      created: ddTimestamp(i.created),
      modified: ddTimestamp(i.modified),
      ...(expanded
        ? {
            commander: i.commander
              ? {
                  data: {
                    type: 'users',
                    id: i.commander,
                    attributes: { uuid: i.commander, handle: null, email: null, name: null, icon: null },
                  },
                }
              : null,
          }
        : {}),
      detected: ddTimestamp(i.detected),
      ...(expanded ? { created_by: expandedUser } : {}),
      created_by_uuid: expanded ? null : ACTING_USER.uuid,
      creation_idempotency_key: null,
      customer_impact_duration: i.customerImpactStart
        ? secs(i.customerImpactStart, i.customerImpactEnd ?? this.clock.now())
        : 0,
      time_to_detect: 0,
      time_to_repair: secs(i.detected, i.resolved),
      time_to_internal_response: 0,
      time_to_resolve: secs(i.created, i.resolved),
      archived: null,
      is_test: false,
      declared: ddTimestamp(i.created),
      ...(expanded ? { declared_by: expandedUser } : {}),
      declared_by_uuid: expanded ? null : ACTING_USER.uuid,
      fields: i.fields,
      field_analytics: null,
      severity: i.fields.severity?.value ?? 'UNKNOWN',
      state: i.fields.state?.value ?? 'active',
      non_datadog_creator: null,
      visibility: 'organization',
      case_id: null,
    };
    return {
      type: 'incidents',
      id: i.id,
      attributes,
      relationships: {
        created_by_user: { data: user },
        last_modified_by_user: { data: user },
        commander_user: { data: i.commander ? { type: 'users', id: i.commander } : null },
        declared_by_user: { data: user },
        user_defined_fields: { data: USER_DEFINED_FIELDS },
        integrations: { data: [] },
        attachments: { data: [] },
        responders: { data: [] },
        impacts: { data: [] },
      },
    };
  }
}

function intParam(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`Invalid value for ${name}`);
  return Number(v);
}
