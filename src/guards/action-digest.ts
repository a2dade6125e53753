import { canonicalJson, sha256Hex } from '../core/canonical-json.js';
import type { Target } from '../contract/define-tool.js';

/** The fields that identify one exact action. */
export interface ActionIdentity {
  tool: string;
  args: Record<string, unknown>;
  env: string;
  targets: Target[];
  preconditions: Record<string, unknown>;
}

/** Arguments that steer governance itself and so are not part of the action. */
const GOVERNANCE_ARGS = new Set(['approval_token', 'approval_id', 'dry_run']);

export function actionArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (!GOVERNANCE_ARGS.has(k)) out[k] = v;
  return out;
}

/** SHA-256 over canonical JSON of {tool, args without the governance args, env, targets, preconditions}. */
export function actionDigest(a: ActionIdentity): string {
  return sha256Hex(
    canonicalJson({
      tool: a.tool,
      args: actionArgs(a.args),
      env: a.env,
      targets: a.targets,
      preconditions: a.preconditions,
    }),
  );
}
