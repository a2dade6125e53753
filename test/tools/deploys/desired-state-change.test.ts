import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPatch } from 'diff';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDesiredState, scanDrift } from '../../../src/tools/deploys/drift/index.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';
import { startTestRegistry, type RegistryProcess } from '../../fixtures/registry.js';

/**
 * update_image and set_resources change the cluster directly: on the north fleet (envs live, with
 * a desired-state folder, and qa, without one) each says the change is drift, and returns the
 * desired-state file and the unified diff that makes it permanent. Applying that diff to a copy of
 * the desired state leaves the Deployment in sync with the cluster, as scanDrift (detect_drift's
 * comparison) sees it.
 */
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REPO = 'ledgers/billing-api';
let h: SandboxHarness;
let agent: Client;
let registry: RegistryProcess;
let digests: Map<string, string>;
let copy: string;

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

async function approved(
  name: string,
  args: Record<string, unknown>,
): Promise<{ plan: Obj; sc: Obj; text: string }> {
  const first = (await agent.callTool({ name, arguments: args })) as CallToolResult;
  expect(first.isError ?? false, text(first)).toBe(false);
  const pending = first.structuredContent as Obj;
  expect(pending.status, text(first)).toBe('approval_required');
  await h.rt.approvals.approve(pending.approval_id as string, 'alice', { channel: 'cli' });
  const got = (await agent.callTool({
    name: 'get_approval',
    arguments: { approval_id: pending.approval_id },
  })) as CallToolResult;
  const token = (got.structuredContent as Obj).approval_token as string;
  const done = (await agent.callTool({
    name,
    arguments: { ...args, approval_token: token },
  })) as CallToolResult;
  expect(done.isError ?? false, text(done)).toBe(false);
  return { plan: pending.plan as Obj, sc: (done.structuredContent as Obj).result as Obj, text: text(done) };
}

/** The desired state of `env` with `diff` applied, compared with the cluster. */
async function driftAfter(env: string, file: string, diff: string): Promise<Obj> {
  const target = join(copy, file);
  const patched = applyPatch(readFileSync(target, 'utf8'), diff);
  expect(patched, 'the diff applies to the desired-state file').not.toBe(false);
  writeFileSync(target, patched as string);
  const { objects } = await scanDrift(h.rt.deps.backends.kubernetes(env), await loadDesiredState(copy));
  return objects.find((o) => o.kind === 'Deployment' && o.name === 'billing-api')!;
}

beforeAll(async () => {
  ({ registry, digests } = await startTestRegistry({ [REPO]: ['3.2.0', '3.2.2'] }));
  h = await startSandboxHarness({
    fleet: fileURLToPath(new URL('../../fixtures/fleets/north.yaml', import.meta.url)),
  });
  for (const env of ['live', 'qa'])
    h.sandbox.environments[env]!.registry = { url: registry.url, host: 'registry.northwind.test' };
  agent = await h.connect('agent-bot');
  // A copy of live's desired state that the returned diffs are applied to.
  copy = mkdtempSync(join(tmpdir(), 'day2-desired-'));
  cpSync(h.rt.deps.config.environments.live!.desired_state!, copy, { recursive: true });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await registry?.close();
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('a direct cluster change returns the desired-state change that makes it permanent', () => {
  it('update_image: warns of drift in the plan and the result, with a diff that brings the desired state in line', async () => {
    const before = await driftAfter('live', 'team-billing.yaml', '');
    expect(before.status).toBe('in_sync');
    const {
      plan,
      sc,
      text: t,
    } = await approved('update_image', {
      service: 'billing-api',
      env: 'live',
      tag: '3.2.2',
    });
    expect(plan.desired_state.drift).toMatch(/drifts from it/);
    expect(sc.outcome).toBe('rolled_out');
    const change = sc.desired_state as Obj;
    expect(change.file).toBe('team-billing.yaml');
    const image = `registry.northwind.test/${REPO}:3.2.2@${digests.get(`${REPO}:3.2.2`)}`;
    expect(change.diff).toContain(`+          image: ${image}`);
    expect(change.diff).toMatch(
      /^-\s+image: registry\.northwind\.test\/ledgers\/billing-api:3\.2\.0@sha256:a{64}$/m,
    );
    expect(t).toContain('DRIFT: this changes the cluster only');
    expect(t).toContain('apply to team-billing.yaml in the desired state:');
    expect(t).toContain(`+          image: ${image}`);
    // Live now differs from the desired state only until the diff is applied.
    const after = await driftAfter('live', change.file as string, change.diff as string);
    expect(after.changes.filter((c: Obj) => /image/.test(c.path))).toEqual([]);
  });

  it('set_resources: the diff sets the new requests in the container, leaving the rest of the file alone', async () => {
    const { sc, text: t } = await approved('set_resources', {
      service: 'billing-api',
      env: 'live',
      requests: { cpu: '400m' },
    });
    const change = sc.desired_state as Obj;
    expect(change.diff).toMatch(/^-\s+cpu: 300m$/m);
    expect(change.diff).toMatch(/^\+\s+cpu: 400m$/m);
    // Only the one changed line: memory, limits and the other Deployment are context or untouched.
    expect((change.diff as string).split('\n').filter((l) => /^[-+]\s/.test(l))).toHaveLength(2);
    expect(t).toContain('DRIFT:');
    const after = await driftAfter('live', change.file as string, change.diff as string);
    expect(after.changes.filter((c: Obj) => /resources/.test(c.path))).toEqual([]);
  });

  it('in an environment without a desired state, says so and where to make the change instead', async () => {
    const { sc, text: t } = await approved('set_resources', {
      service: 'billing-api',
      env: 'qa',
      requests: { memory: '400Mi' },
    });
    expect(sc.desired_state).toMatchObject({
      note: expect.stringContaining('environments.qa.desired_state'),
    });
    expect(sc.desired_state.diff).toBeUndefined();
    expect(t).toContain('no desired state configured for qa');
  });
});
