import type { ResourceType } from './resources.js';

/** The reasons the emulator answers with, as metav1.StatusReason spells them. */
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Forbidden'
  | 'Unauthorized'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'TooManyRequests'
  | 'ServiceUnavailable';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** An error the emulator turns into a metav1.Status body with the matching HTTP code. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: {
      name?: string;
      group?: string;
      kind?: string;
      causes?: StatusCause[];
      retryAfterSeconds?: number;
    },
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  toStatus(): Record<string, unknown> {
    return statusBody(this.code, this.reason, this.message, this.details);
  }
}

export function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
  };
  if (details && Object.keys(details).length > 0) body.details = details;
  body.code = code;
  return body;
}

/** `deployments.apps` / `pods`: how the API server names a resource in its messages. */
export function qualifiedName(rt: ResourceType): string {
  return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}

export function notFound(rt: ResourceType, name: string): KubeApiError {
  return new KubeApiError(404, 'NotFound', `${qualifiedName(rt)} "${name}" not found`, {
    name,
    group: rt.group || undefined,
    kind: rt.plural,
  });
}

export function alreadyExists(rt: ResourceType, name: string): KubeApiError {
  return new KubeApiError(409, 'AlreadyExists', `${qualifiedName(rt)} "${name}" already exists`, {
    name,
    group: rt.group || undefined,
    kind: rt.plural,
  });
}

export function conflict(
  rt: ResourceType,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): KubeApiError {
  return new KubeApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(rt)} "${name}": ${why}`,
    {
      name,
      group: rt.group || undefined,
      kind: rt.plural,
    },
  );
}

export function invalid(
  rt: ResourceType,
  name: string,
  causes: { field: string; message: string; reason?: string }[],
): KubeApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new KubeApiError(
    422,
    'Invalid',
    `${rt.kind}${rt.group ? '.' + rt.group : ''} "${name}" is invalid: ${summary}`,
    {
      name,
      group: rt.group || undefined,
      kind: rt.kind,
      causes: causes.map((c) => ({
        reason: c.reason ?? 'FieldValueInvalid',
        message: c.message,
        field: c.field,
      })),
    },
  );
}

export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', message);
}
