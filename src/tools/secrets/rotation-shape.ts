import { z } from 'zod';
import type { RotationDoc } from './rotation/types.js';

/** How a rotation is shown: steps with status and times, dependents, never a value. */
export const rotationShape = z.object({
  rotation_id: z.string(),
  env: z.string(),
  secret: z.string(),
  service: z.string().optional(),
  strategy: z.enum(['single-user', 'alternating-users']),
  status: z.enum(['in_progress', 'completed', 'failed', 'rolled_back']),
  role: z.string().describe('login role of AWSCURRENT before the rotation'),
  new_role: z.string().describe('login role of the new version'),
  database: z.string(),
  current_version: z.string().describe('the new version id (AWSCURRENT once finish_secret is done)'),
  previous_version: z.string(),
  requested_by: z.string(),
  steps: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      started_at: z.string().optional(),
      finished_at: z.string().optional(),
      note: z.string().optional(),
    }),
  ),
  dependents: z.array(
    z.object({
      service: z.string(),
      namespace: z.string(),
      deployment: z.string(),
      status: z.string(),
      restarted_at: z.string().optional(),
      ready_at: z.string().optional(),
      reason: z.string().optional(),
    }),
  ),
  resumed: z.number(),
  error: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function rotationView(d: RotationDoc): z.infer<typeof rotationShape> {
  return {
    rotation_id: d.id,
    env: d.env,
    secret: d.secret,
    service: d.service,
    strategy: d.strategy,
    status: d.status,
    role: d.role,
    new_role: d.new_role,
    database: `${d.database} (${d.dbname})`,
    current_version: d.pending_version,
    previous_version: d.previous_version,
    requested_by: d.requested_by,
    steps: d.steps.map((s) => ({
      name: s.name,
      status: s.status,
      started_at: s.started_at,
      finished_at: s.finished_at,
      note: s.note,
    })),
    dependents: d.dependents.map(({ owner: _owner, ...x }) => x),
    resumed: d.resumed,
    error: d.error,
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
}

export function renderRotation(r: z.infer<typeof rotationShape>): string {
  return [
    `rotation ${r.rotation_id} of ${r.env}/${r.secret}: ${r.status} (${r.strategy}, ${r.new_role})`,
    ...r.steps.map((s) => `  ${s.status.padEnd(11)} ${s.name}${s.note ? ` — ${s.note}` : ''}`),
    r.error ? `error: ${r.error}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
