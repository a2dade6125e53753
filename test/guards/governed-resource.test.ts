import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';
import { waitFor } from '../fixtures/wait-for.js';

/**
 * Resource reads take one governed path, as tool calls do: policy, redaction and audit apply to
 * every read, template reads and subscription polls included.
 */
let h: SandboxHarness;
let intern: Client;
let sre: Client;

interface ReadRecord {
  principal: string;
  resource?: string;
  policy?: { rule: string; decision: string };
  outcome: { ok: boolean; error?: string };
  detail?: { via?: string };
}

async function reads(principal: string): Promise<ReadRecord[]> {
  await h.rt.auditLog.flush();
  return (await h.rt.deps.store.queryAudit({ event: 'resource.read', principal, limit: 500 })).map(
    (r) => JSON.parse(r.record) as ReadRecord,
  );
}

beforeAll(async () => {
  h = await startSandboxHarness({
    config: {
      backends: { poll_interval: 150 },
      policy: {
        rules: [
          {
            id: 'no-audit-for-interns',
            match: { toolset: 'resources', tool: 'audit-recent', principal: 'intern' },
            decision: 'deny',
            reason: 'interns do not read the audit log',
          },
        ],
      },
    },
  });
  intern = await h.connect('Intern');
  sre = await h.connect('sre-bob');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('governed resource reads', () => {
  it('applies policy to a resource read, matched by the resource name, and audits the refusal', async () => {
    await expect(intern.readResource({ uri: 'day2://audit/recent' })).rejects.toThrow(
      /Policy denies reading day2:\/\/audit\/recent: interns do not read the audit log \(rule "no-audit-for-interns"\)/,
    );
    // The same resource for someone else, and another resource for the intern, are allowed.
    expect((await sre.readResource({ uri: 'day2://audit/recent' })).contents.length).toBeGreaterThan(0);
    expect((await intern.readResource({ uri: 'day2://services' })).contents.length).toBeGreaterThan(0);
    const refused = (await reads('Intern')).find((r) => r.resource === 'day2://audit/recent');
    expect(refused).toMatchObject({
      outcome: { ok: false, error: 'policy_denied' },
      policy: { rule: 'no-audit-for-interns', decision: 'deny' },
    });
  });

  it('audits subscription polls as reads under policy, marked as such', async () => {
    await sre.subscribeResource({ uri: 'day2://alerts' });
    await waitFor(async () => ((await allPolls()).length >= 2 ? true : undefined), 'two audited polls');
    const polls = await allPolls();
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.every((r) => r.outcome.ok && r.policy?.decision === 'allow')).toBe(true);
    await sre.unsubscribeResource({ uri: 'day2://alerts' });
  });
});

async function allPolls(): Promise<ReadRecord[]> {
  await h.rt.auditLog.flush();
  return (await h.rt.deps.store.queryAudit({ event: 'resource.read', limit: 2000 }))
    .map((r) => JSON.parse(r.record) as ReadRecord)
    .filter((r) => r.resource === 'day2://alerts' && r.detail?.via === 'subscription');
}
