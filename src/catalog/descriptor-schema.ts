import { z } from 'zod';
import { entityRefExpectation, tryParseEntityRef } from './entity-ref.js';
import type { EntityRef } from './entity-ref.js';

/** zod schemas of the Backstage descriptor kinds day2 reads (Component, Resource, System, Group). */

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** An entity ref field; `defaultKind` undefined means the kind must be written out. */
export function entityRefSchema(defaultKind?: string) {
  return z.string().transform((text, ctx): EntityRef => {
    const ref = tryParseEntityRef(text, defaultKind ? { defaultKind } : {});
    if (!ref) {
      ctx.addIssue({ code: 'custom', message: entityRefExpectation(defaultKind ?? 'component') });
      return z.NEVER;
    }
    return ref;
  });
}

export const linkSchema = z.object({
  url: z.string().url('expected a URL'),
  title: z.string().optional(),
  icon: z.string().optional(),
  type: z.string().optional(),
});

export const metadataSchema = z.object({
  name: z.string().regex(NAME, 'expected a name of letters, digits, ., _ and - (at most 63 characters)'),
  namespace: z.string().regex(NAME, 'expected a namespace name').optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  tags: z.array(z.string()).optional(),
  links: z.array(linkSchema).optional(),
});

export const envelopeSchema = z.object({
  apiVersion: z.string().regex(/^backstage\.io\/v1(alpha1|beta1)$/, 'expected backstage.io/v1alpha1'),
  kind: z.string().min(1),
  metadata: metadataSchema,
  spec: z.record(z.string(), z.unknown()).optional(),
});

export const componentSpecSchema = z.object({
  type: z.string().min(1),
  lifecycle: z.string().min(1),
  owner: entityRefSchema('group'),
  system: entityRefSchema('system').optional(),
  subcomponentOf: entityRefSchema('component').optional(),
  dependsOn: z.array(entityRefSchema()).optional(),
  providesApis: z.array(z.string()).optional(),
  consumesApis: z.array(z.string()).optional(),
});

export const resourceSpecSchema = z.object({
  type: z.string().min(1),
  owner: entityRefSchema('group'),
  system: entityRefSchema('system').optional(),
  dependsOn: z.array(entityRefSchema()).optional(),
  dependencyOf: z.array(entityRefSchema()).optional(),
});

export const systemSpecSchema = z.object({
  owner: entityRefSchema('group'),
  domain: z.string().optional(),
});

export const groupSpecSchema = z.object({
  type: z.string().min(1),
  profile: z
    .object({
      displayName: z.string().optional(),
      email: z.string().optional(),
      picture: z.string().optional(),
      slack: z.string().optional(),
    })
    .optional(),
  parent: entityRefSchema('group').optional(),
  children: z.array(entityRefSchema('group')).default([]),
  members: z.array(entityRefSchema('user')).optional(),
});

export type Metadata = z.infer<typeof metadataSchema>;
export type ComponentSpec = z.infer<typeof componentSpecSchema>;
export type ResourceSpec = z.infer<typeof resourceSpecSchema>;
export type SystemSpec = z.infer<typeof systemSpecSchema>;
export type GroupSpec = z.infer<typeof groupSpecSchema>;

/** One validated descriptor, with where it came from. */
export type Entity =
  | { kind: 'component'; metadata: Metadata; spec: ComponentSpec; source: string }
  | { kind: 'resource'; metadata: Metadata; spec: ResourceSpec; source: string }
  | { kind: 'system'; metadata: Metadata; spec: SystemSpec; source: string }
  | { kind: 'group'; metadata: Metadata; spec: GroupSpec; source: string };

/** Kinds day2 understands; others (API, User, Domain, Location, Template) are skipped. */
export const SPEC_SCHEMAS = {
  component: componentSpecSchema,
  resource: resourceSpecSchema,
  system: systemSpecSchema,
  group: groupSpecSchema,
} as const;
