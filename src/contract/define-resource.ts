import type { Deps } from './deps.js';
import type { Principal } from '../core/principal.js';

export interface ResourceContext {
  deps: Deps;
  principal: Principal;
  signal: AbortSignal;
}

/** What a read returns: JSON (rendered once, compactly) and optionally extra text parts. */
export interface ResourceContent {
  json?: unknown;
  text?: string;
  mimeType?: string;
  /** Further parts under sub-URIs, e.g. the Mermaid rendering of the graph. */
  extra?: { uri: string; mimeType: string; text: string }[];
}

interface ResourceBase {
  name: string;
  title: string;
  description: string;
  mimeType: string;
  /** Subscribable resources are polled and announce changes with notifications/resources/updated. */
  subscribable?: boolean;
}

/** A fixed URI such as day2://graph. */
export interface StaticResource extends ResourceBase {
  uri: string;
  read(ctx: ResourceContext): Promise<ResourceContent>;
}

/** A URI template such as day2://services/{name}, with completion of its variables. */
export interface TemplateResource extends ResourceBase {
  uriTemplate: string;
  /** Lists concrete resources for resources/list, capped; optional. */
  list?(ctx: ResourceContext): Promise<{ uri: string; name: string }[]>;
  complete?(variable: string, prefix: string, deps: Deps): Promise<string[]>;
  read(params: Record<string, string>, ctx: ResourceContext): Promise<ResourceContent>;
}

export type ResourceDefinition = StaticResource | TemplateResource;

export function defineResource(r: StaticResource): StaticResource {
  return r;
}

export function defineResourceTemplate(r: TemplateResource): TemplateResource {
  return r;
}

/** Asked for a resource that does not exist (unknown service, unknown env). */
export class ResourceNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceNotFoundError';
  }
}
