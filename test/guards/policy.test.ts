import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, Policy, loadPolicy } from '../../src/guards/policy.js';
import { configSchema } from '../../src/config/schema.js';
import { actionDigest } from '../../src/guards/action-digest.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { Redactor, REDACTED } from '../../src/core/redact.js';
import fc from 'fast-check';

const base = { tool: 't', toolset: 'x', principal: 'p' } as const;

describe('policy defaults', () => {
  const p = new Policy('default', DEFAULT_RULES);
  it('allows reads and records, requires approval for writes', () => {
    expect(
      p.evaluate({ ...base, effect: 'read', risk: 'low', env: 'prod', tier: 'production' }).decision,
    ).toBe('allow');
    expect(p.evaluate({ ...base, effect: 'record', risk: 'low' }).decision).toBe('allow');
    const w = p.evaluate({ ...base, effect: 'write', risk: 'high', env: 'dev', tier: 'development' });
    expect(w).toMatchObject({ decision: 'require_approval', approvals: 1, rule: 'writes-need-approval' });
  });
  it('needs two distinct approvers for critical production writes', () => {
    const d = p.evaluate({ ...base, effect: 'write', risk: 'critical', env: 'prod', tier: 'production' });
    expect(d).toMatchObject({ decision: 'require_approval', approvals: 2, distinct_from_requester: true });
    expect(
      p.evaluate({ ...base, effect: 'write', risk: 'critical', env: 'dev', tier: 'development' }).approvals,
    ).toBe(1);
  });
  it('denies deleting namespaces, databases and secrets', () => {
    for (const kind of ['namespace', 'database', 'secret']) {
      expect(p.evaluate({ ...base, effect: 'write', risk: 'high', destroys: [kind] }).decision).toBe('deny');
    }
  });
  it('production rotation needs two approvers, a reason and owner notification', () => {
    const d = p.evaluate({
      ...base,
      tool: 'rotate_credential',
      effect: 'write',
      risk: 'high',
      env: 'prod',
      tier: 'production',
    });
    expect(d).toMatchObject({
      approvals: 2,
      distinct_from_requester: true,
      reason_required: true,
      notify_owners: true,
    });
  });
});

describe('policy from config', () => {
  it('puts user rules first, matches globs, and changes the hash with the rules', () => {
    const cfg = configSchema.parse({
      policy: { version: '7', rules: [{ id: 'deny-bob', match: { principal: 'bob*' }, decision: 'deny' }] },
    });
    const p = loadPolicy(cfg, '/');
    expect(p.evaluate({ ...base, principal: 'bobby', effect: 'read', risk: 'low' }).rule).toBe('deny-bob');
    expect(p.evaluate({ ...base, principal: 'alice', effect: 'read', risk: 'low' }).decision).toBe('allow');
    expect(p.hash).not.toBe(new Policy('default', DEFAULT_RULES).hash);
  });
  it('denies a call no rule matches when defaults are excluded', () => {
    const cfg = configSchema.parse({
      policy: { include_defaults: false, rules: [{ id: 'r', match: { tool: 'x' }, decision: 'allow' }] },
    });
    expect(loadPolicy(cfg, '/').evaluate({ ...base, effect: 'read', risk: 'low' })).toMatchObject({
      decision: 'deny',
      rule: 'no-matching-rule',
    });
  });
});

describe('action digest and canonical JSON', () => {
  it('ignores key order and governance arguments, and changes with anything else', () => {
    const a = {
      tool: 't',
      env: 'prod',
      targets: [{ kind: 'deployment', name: 'x' }],
      preconditions: { rv: '1' },
      args: { b: 1, a: 2 },
    };
    const b = { ...a, args: { a: 2, b: 1, approval_token: 'd2t_x', dry_run: true } };
    expect(actionDigest(a)).toBe(actionDigest(b));
    expect(actionDigest({ ...a, env: 'staging' })).not.toBe(actionDigest(a));
    expect(actionDigest({ ...a, preconditions: { rv: '2' } })).not.toBe(actionDigest(a));
  });
  it('is stable for any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});

describe('redaction', () => {
  it('masks secret-named fields and registered secret values anywhere', () => {
    const redactor = new Redactor();
    redactor.registerSecret('hunter2-canary-value');
    const out = redactor.redact({
      password: 'x',
      nested: { api_key: 'k', note: 'the value hunter2-canary-value leaked' },
      approval_token: 'keep',
    });
    expect(out).toEqual({
      password: REDACTED,
      nested: { api_key: REDACTED, note: `the value ${REDACTED} leaked` },
      approval_token: 'keep',
    });
  });
});
