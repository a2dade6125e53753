import type { Deps } from '../../deps.js';
import type { CatalogService } from '../../catalog/model.js';
import { ToolError } from '../define-tool.js';

/** The catalog service a tool argument names, or a ToolError that suggests close names. */
export function resolveService(deps: Deps, name: string): CatalogService {
  const s = deps.catalog.service(name);
  if (s) return s;
  const close = deps.catalog.completeServiceNames(name.slice(0, 3), 5);
  throw new ToolError(
    `service: no service "${name}" in the catalog${close.length ? `; did you mean ${close.join(', ')}?` : ''}`,
    'not_found',
    'service',
  );
}

/** The environment a tool argument names, or a ToolError listing the configured ones. */
export function resolveEnv(deps: Deps, env: string): string {
  if (deps.config.environments[env]) return env;
  throw new ToolError(
    `env: no environment "${env}"; configured: ${Object.keys(deps.config.environments).join(', ') || 'none'}`,
    'not_found',
    'env',
  );
}
