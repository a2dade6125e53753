/**
 * Backstage entity references: `[kind:][namespace/]name`. Kind and namespace are optional in the
 * text and filled from context (the field's default kind, the `default` namespace). Comparison is
 * case-insensitive, so the canonical form is lower-case.
 */
export interface EntityRef {
  kind: string;
  namespace: string;
  name: string;
}

export const DEFAULT_NAMESPACE = 'default';

const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface ParseRefOptions {
  /** Kind used when the text has none; when absent, a ref without a kind is refused. */
  defaultKind?: string;
  defaultNamespace?: string;
}

/** Parses an entity ref; returns undefined when the text is not one. */
export function tryParseEntityRef(text: string, opts: ParseRefOptions = {}): EntityRef | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let rest = trimmed;
  let kind: string | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    kind = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    if (!PART.test(kind)) return undefined;
  }
  let namespace: string | undefined;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    namespace = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!PART.test(namespace)) return undefined;
  }
  if (!PART.test(rest) || rest.length > 63) return undefined;
  kind ??= opts.defaultKind;
  if (!kind) return undefined;
  return {
    kind: kind.toLowerCase(),
    namespace: (namespace ?? opts.defaultNamespace ?? DEFAULT_NAMESPACE).toLowerCase(),
    name: rest.toLowerCase(),
  };
}

/** Parses an entity ref or throws an Error whose message says what was expected. */
export function parseEntityRef(text: string, opts: ParseRefOptions = {}): EntityRef {
  const ref = tryParseEntityRef(text, opts);
  if (!ref) throw new Error(entityRefExpectation(opts.defaultKind ?? 'component'));
  return ref;
}

export function entityRefExpectation(kind: string): string {
  const example =
    kind === 'group'
      ? 'group:default/payments-team'
      : kind === 'system'
        ? 'system:default/payments'
        : `${kind}:default/ledger`;
  return `expected an entity ref such as ${example}`;
}

/** Canonical, fully qualified form: `kind:namespace/name`. */
export function stringifyEntityRef(ref: EntityRef): string {
  return `${ref.kind}:${ref.namespace}/${ref.name}`;
}

/**
 * Short form used as node ids and service names: the kind is dropped when it is `defaultKind`,
 * the namespace when it is `default` (`checkout`, `resource:orders-db`, `shop/checkout`).
 */
export function humanizeEntityRef(ref: EntityRef, defaultKind = 'component'): string {
  const ns = ref.namespace === DEFAULT_NAMESPACE ? '' : `${ref.namespace}/`;
  const kind = ref.kind === defaultKind ? '' : `${ref.kind}:`;
  return `${kind}${ns}${ref.name}`;
}
