import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import { canonicalJson, chainHash, GENESIS_HASH } from '../../src/core/canonical-json.js';
import { ApprovalStateError, StoreUnavailableError, VersionConflictError } from '../../src/store/store.js';
import type { ApprovalRequest, AuditInput, AuditRecord, Store } from '../../src/store/store.js';
import { backends, sqliteBackend, type BackendFactory, type TestBackend } from './fixtures/backends.js';

const T0 = '2026-11-26T12:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const MIN = 60_000;

function approval(
  over: Partial<Omit<ApprovalRequest, 'status' | 'decisions' | 'token_issued_at'>> = {},
): Omit<ApprovalRequest, 'status' | 'decisions' | 'token'> {
  return {
    id: randomUUID(),
    tool: 'scale_deployment',
    env: 'prod',
    service: 'checkout',
    action_digest: 'a'.repeat(64),
    requester: 'alice',
    summary: 'scale checkout in prod from 3 to 5 replicas',
    args: { service: 'checkout', env: 'prod', replicas: 5 },
    plan: { from: 3, to: 5, resource_version: '812' },
    policy: {
      rule: 'prod-writes',
      approvals_needed: 1,
      distinct_from_requester: true,
      reason_required: false,
      channels: ['cli'],
      notify_owners: false,
      version: '1',
      hash: 'b'.repeat(64),
    },
    created_at: T0,
    expires_at: at(15 * MIN),
    ...over,
  };
}

const approve = (principal: string, ms = MIN) => ({
  principal,
  decision: 'approve' as const,
  at: at(ms),
  channel: 'cli',
});

// The SQLite store on the caller's thread (a stdio server's) keeps the same contract.
const callerThread: BackendFactory & { title: string } = {
  ...sqliteBackend,
  title: 'sqlite (caller thread)',
  async create() {
    const b = await sqliteBackend.create();
    return { ...b, open: (opts) => b.open({ ...opts, thread: 'caller' }) };
  },
};

describe.each([...backends.map((b) => ({ ...b, title: b.name })), callerThread])(
  'store contract: $title',
  (factory) => {
    let backend: TestBackend;
    let store: Store;

    beforeEach(async () => {
      backend = await factory.create();
      store = await backend.open();
    });

    afterEach(async () => {
      await store.close();
      await backend.cleanup();
    });

    describe('audit chain', () => {
      it('assigns consecutive seqs and hashes the canonical record onto the previous hash', async () => {
        const a = await store.appendAudit(
          { event: 'tool_call', tool: 'get_service', env: 'prod', args: { b: 1, a: 2 } },
          at(1),
        );
        const b = await store.appendAudit({ event: 'tool_call', tool: 'list_alerts', env: 'staging' });

        expect(a.seq).toBe(1);
        expect(b.seq).toBe(2);
        expect(a.ts).toBe(at(1));
        expect(a.record).toBe(
          canonicalJson({
            args: { a: 2, b: 1 },
            env: 'prod',
            event: 'tool_call',
            seq: 1,
            tool: 'get_service',
            ts: at(1),
          }),
        );
        expect(a.prev_hash).toBe(GENESIS_HASH);
        expect(a.hash).toBe(chainHash(GENESIS_HASH, a.record));
        expect(b.prev_hash).toBe(a.hash);
        expect(b.hash).toBe(chainHash(a.hash, b.record));
        expect(Date.parse(b.ts)).not.toBeNaN();
        expect(await store.auditHead()).toEqual({ seq: 2, hash: b.hash });
      });

      it('keeps its own seq and ts even if the input names them', async () => {
        const sneaky = { event: 'tool_call', seq: 99, ts: '1999-01-01T00:00:00.000Z' } as AuditInput;
        const r = await store.appendAudit(sneaky, at(5));
        expect(JSON.parse(r.record)).toMatchObject({ seq: 1, ts: at(5) });
      });

      it('returns records exactly as appended, and an empty head for an empty log', async () => {
        expect(await store.auditHead()).toBeUndefined();
        const written = await store.appendAuditBatch!([
          { input: { event: 'tool_call', tool: 'a' }, ts: at(1) },
          { input: { event: 'tool_call', tool: 'b' }, ts: at(2) },
          { input: { event: 'tool_call', tool: 'c' } },
        ]);
        expect(written.map((r) => r.seq)).toEqual([1, 2, 3]);
        const read = await store.queryAudit({ limit: 10 });
        expect(read).toEqual(written);
      });

      it('filters by tool, env, principal, event, service, time and seq, in either order', async () => {
        const inputs: AuditInput[] = [
          {
            event: 'tool_call',
            tool: 'scale_deployment',
            env: 'prod',
            principal: 'alice',
            service: 'checkout',
          },
          { event: 'tool_call', tool: 'get_service', env: 'prod', principal: 'bob', service: 'checkout' },
          {
            event: 'approval',
            tool: 'scale_deployment',
            env: 'staging',
            principal: 'alice',
            service: 'search',
            call: 'c-1',
            approval: { id: 'apr_1' },
          },
          { event: 'tool_call', tool: 'scale_deployment', env: 'prod', principal: 'bob', service: 'search' },
          { event: 'resource_read', resource: 'day2://services', principal: 'alice' },
        ];
        for (const [i, input] of inputs.entries()) await store.appendAudit(input, at(i * MIN));

        const seqs = (rs: AuditRecord[]) => rs.map((r) => r.seq);
        expect(seqs(await store.queryAudit({ tool: 'scale_deployment', limit: 10 }))).toEqual([1, 3, 4]);
        expect(seqs(await store.queryAudit({ tool: 'scale_deployment', env: 'prod', limit: 10 }))).toEqual([
          1, 4,
        ]);
        expect(seqs(await store.queryAudit({ principal: 'alice', limit: 10 }))).toEqual([1, 3, 5]);
        expect(seqs(await store.queryAudit({ event: 'approval', limit: 10 }))).toEqual([3]);
        expect(seqs(await store.queryAudit({ service: 'search', limit: 10 }))).toEqual([3, 4]);
        expect(seqs(await store.queryAudit({ since: at(2 * MIN), limit: 10 }))).toEqual([3, 4, 5]);
        expect(seqs(await store.queryAudit({ afterSeq: 1, beforeSeq: 4, limit: 10 }))).toEqual([2, 3]);
        expect(seqs(await store.queryAudit({ limit: 2, desc: true }))).toEqual([5, 4]);
        expect(seqs(await store.queryAudit({ principal: 'alice', desc: true, limit: 2 }))).toEqual([5, 3]);
        expect(await store.queryAudit({ tool: 'no_such_tool', limit: 10 })).toEqual([]);
        expect(seqs(await store.queryAudit({ call: 'c-1', limit: 10 }))).toEqual([3]);
        expect(seqs(await store.queryAudit({ approval_id: 'apr_1', limit: 10 }))).toEqual([3]);
        expect(seqs(await store.queryAudit({ approval_id: 'apr_2', limit: 10 }))).toEqual([]);
        expect(seqs(await store.queryAudit({ excludeEvent: 'resource_read', limit: 10 }))).toEqual([
          1, 2, 3, 4,
        ]);
      });

      it('counts what a query matches, and keeps to the records that open an action', async () => {
        const inputs: AuditInput[] = [
          { event: 'tool.call', tool: 'get_service', env: 'prod', principal: 'bob' },
          { event: 'resource.read', resource: 'day2://services', principal: 'bob' },
          { event: 'tool.approval_required', tool: 'scale', env: 'prod', approval: { id: 'apr_1' } },
          {
            event: 'approval.approved',
            tool: 'scale',
            env: 'prod',
            principal: 'alice',
            approval: { id: 'apr_1' },
          },
          { event: 'tool.execute', tool: 'scale', env: 'prod', call: 'c-2', approval: { id: 'apr_1' } },
          { event: 'tool.outcome', tool: 'scale', env: 'prod', call: 'c-2', outcome: { ok: true } },
          { event: 'tool.execute', tool: 'scale', env: 'dev', call: 'c-3' },
          { event: 'tool.refused', tool: 'scale', env: 'prod' },
        ];
        for (const [i, input] of inputs.entries()) await store.appendAudit(input, at(i * MIN));
        const opening = await store.queryAudit({ opensAction: true, limit: 100 });
        expect(opening.map((r) => r.seq)).toEqual([1, 3, 7, 8]);
        expect(await store.countAudit({ opensAction: true })).toBe(4);
        expect(await store.countAudit({ opensAction: true, env: 'prod' })).toBe(3);
        expect(await store.countAudit({ opensAction: true, beforeSeq: 8 })).toBe(3);
        expect(await store.countAudit({ tool: 'scale' })).toBe(6);
        expect(await store.countAudit({})).toBe(8);
        expect(await store.countAudit({ tool: 'nothing' })).toBe(0);
      });

      it('streams the whole chain in batches, as records and as links', async () => {
        await store.appendAuditBatch!(
          Array.from({ length: 23 }, (_, i) => ({ input: { event: 'tool_call', detail: { i } } })),
        );
        const batches: number[][] = [];
        for await (const batch of store.scanAudit(10)) batches.push(batch.map((r) => r.seq));
        expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
        expect(batches.flat()).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));

        const tail: number[] = [];
        for await (const batch of store.scanAudit(5, 20)) tail.push(...batch.map((r) => r.seq));
        expect(tail).toEqual([21, 22, 23]);

        const all = await store.queryAudit({ limit: 100 });
        const links = [];
        for await (const batch of store.scanChain!(7)) links.push(...batch);
        expect(links).toEqual(all.map((r) => [r.seq, r.hash, r.prev_hash, r.record]));
      });

      it('never forks the chain under 50 concurrent appends', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.appendAudit({ event: 'tool_call', tool: 'get_service', detail: { i } }),
          ),
        );
        expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
        const verdict = await verifyAudit(store);
        expect(verdict).toMatchObject({ ok: true, records: 50 });
      });

      it('stores checkpoints once per seq, in seq order', async () => {
        const cp = { seq: 2, hash: 'c'.repeat(64), ts: at(1), key_id: '0123456789abcdef', signature: 'c2ln' };
        await store.addCheckpoint({ ...cp, seq: 5 });
        await store.addCheckpoint(cp);
        await store.addCheckpoint({ ...cp, signature: 'b3RoZXI=' });
        expect(await store.checkpoints()).toEqual([cp, { ...cp, seq: 5 }]);
      });
    });

    describe('approvals', () => {
      it('creates a pending request, without a token yet, and returns it by id', async () => {
        const req = approval();
        const { request, created } = await store.createApproval(req);
        expect(created).toBe(true);
        expect(request).toEqual({ ...req, status: 'pending', decisions: [] });
        expect(await store.getApproval(req.id)).toEqual(request);
        expect(await store.getApproval('nope')).toBeUndefined();
      });

      it('returns the existing pending request for the same digest and requester', async () => {
        const first = await store.createApproval(approval());
        const again = await store.createApproval(approval({ created_at: at(MIN), expires_at: at(16 * MIN) }));
        expect(again.created).toBe(false);
        expect(again.request.id).toBe(first.request.id);

        const otherRequester = await store.createApproval(approval({ requester: 'bob' }));
        expect(otherRequester.created).toBe(true);
        const otherDigest = await store.createApproval(approval({ action_digest: 'f'.repeat(64) }));
        expect(otherDigest.created).toBe(true);
        const afterExpiry = await store.createApproval(
          approval({ created_at: at(20 * MIN), expires_at: at(35 * MIN) }),
        );
        expect(afterExpiry.created).toBe(true);
        expect(afterExpiry.request.id).not.toBe(first.request.id);
      });

      it('creates one request when the same action is requested concurrently', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, () => store.createApproval(approval())));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.request.id)).size).toBe(1);
      });

      it('needs k distinct approvers; a repeat approval counts once and the requester not at all', async () => {
        const req = approval({ policy: { ...approval().policy, approvals_needed: 2 } });
        await store.createApproval(req);

        let r = await store.decideApproval(req.id, approve('alice'), at(MIN), 15 * MIN);
        expect(r.status).toBe('pending');
        r = await store.decideApproval(req.id, approve('bob'), at(2 * MIN), 15 * MIN);
        expect(r.status).toBe('pending');
        r = await store.decideApproval(req.id, approve('bob', 3 * MIN), at(3 * MIN), 15 * MIN);
        expect(r.status).toBe('pending');
        expect(r.decisions.map((d) => d.principal)).toEqual(['alice', 'bob']);

        r = await store.decideApproval(req.id, approve('carol', 4 * MIN), at(4 * MIN), 10 * MIN);
        expect(r.status).toBe('approved');
        expect(r.approved_at).toBe(at(4 * MIN));
        expect(r.token_expires_at).toBe(at(14 * MIN));
        expect(await store.getApproval(req.id)).toEqual(r);
        await expect(store.decideApproval(req.id, approve('dave'), at(5 * MIN), MIN)).rejects.toThrow(
          ApprovalStateError,
        );
      });

      it('moves to denied on a deny and refuses later decisions', async () => {
        const req = approval();
        await store.createApproval(req);
        const r = await store.decideApproval(
          req.id,
          { principal: 'bob', decision: 'deny', reason: 'not now', at: at(MIN), channel: 'cli' },
          at(MIN),
          MIN,
        );
        expect(r.status).toBe('denied');
        expect(r.decisions).toEqual([
          { principal: 'bob', decision: 'deny', reason: 'not now', at: at(MIN), channel: 'cli' },
        ]);
        const err = await store
          .decideApproval(req.id, approve('carol'), at(2 * MIN), MIN)
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApprovalStateError);
        expect((err as ApprovalStateError).status).toBe('denied');
      });

      it('revokes an approved, unused token on a later deny', async () => {
        const req = approval();
        await store.createApproval(req);
        await store.decideApproval(req.id, approve('bob'), at(MIN), 10 * MIN);
        await store.issueToken(req.id, 'tok-revoke', at(MIN));
        const r = await store.decideApproval(
          req.id,
          { principal: 'carol', decision: 'deny', at: at(2 * MIN), channel: 'cli' },
          at(2 * MIN),
          MIN,
        );
        expect(r.status).toBe('denied');
        expect(await store.consumeToken('tok-revoke', req.action_digest, 'alice', at(3 * MIN))).toMatchObject(
          {
            ok: false,
            reason: 'denied',
          },
        );
      });

      it('refuses decisions on unknown and expired requests, marking the expired one', async () => {
        const unknown = await store
          .decideApproval('missing', approve('bob'), at(MIN), MIN)
          .catch((e: unknown) => e);
        expect((unknown as ApprovalStateError).status).toBe('unknown');

        const req = approval();
        await store.createApproval(req);
        const late = await store
          .decideApproval(req.id, approve('bob', 16 * MIN), at(16 * MIN), MIN)
          .catch((e: unknown) => e);
        expect(late).toBeInstanceOf(ApprovalStateError);
        expect((late as ApprovalStateError).status).toBe('expired');
        expect((await store.getApproval(req.id))?.status).toBe('expired');
      });

      async function approved(
        token: string,
        over: Partial<Omit<ApprovalRequest, 'status' | 'decisions' | 'token_issued_at'>> = {},
      ) {
        const req = approval(over);
        await store.createApproval(req);
        await store.decideApproval(req.id, approve('bob'), at(MIN), 5 * MIN);
        expect(await store.issueToken(req.id, token, at(MIN))).toMatchObject({ token_issued_at: at(MIN) });
        return req;
      }

      it('lets exactly one of 20 concurrent consumers use a token', async () => {
        const req = await approved('tok-race');
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            store.consumeToken('tok-race', req.action_digest, 'alice', at(2 * MIN)),
          ),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        expect(winners[0]).toMatchObject({
          ok: true,
          request: { id: req.id, status: 'consumed', consumed_at: at(2 * MIN) },
        });
        const losers = results.filter((r) => !r.ok);
        expect(losers).toHaveLength(19);
        for (const l of losers) expect(l).toMatchObject({ ok: false, reason: 'consumed' });
      });

      it('names why a token cannot be consumed', async () => {
        const req = await approved('tok-1');
        expect(await store.consumeToken('tok-unknown', req.action_digest, 'alice', at(2 * MIN))).toEqual({
          ok: false,
          reason: 'unknown',
        });
        expect(await store.consumeToken('tok-1', 'e'.repeat(64), 'alice', at(2 * MIN))).toMatchObject({
          ok: false,
          reason: 'wrong_digest',
        });
        expect(await store.consumeToken('tok-1', req.action_digest, 'alice', at(6 * MIN))).toMatchObject({
          ok: false,
          reason: 'expired',
        });
        expect((await store.getApproval(req.id))?.status).toBe('approved');

        const pending = approval({ action_digest: '1'.repeat(64) });
        await store.createApproval(pending);
        // A request has no token until it is approved and the token issued.
        expect(await store.issueToken(pending.id, 'tok-pending', at(2 * MIN))).toBeUndefined();
        expect(await store.consumeToken('tok-pending', pending.action_digest, 'alice', at(2 * MIN))).toEqual({
          ok: false,
          reason: 'unknown',
        });

        const denied = approval({ action_digest: '2'.repeat(64) });
        await store.createApproval(denied);
        await store.decideApproval(
          denied.id,
          { principal: 'bob', decision: 'deny', at: at(MIN), channel: 'cli' },
          at(MIN),
          MIN,
        );
        expect(await store.issueToken(denied.id, 'tok-denied', at(2 * MIN))).toBeUndefined();

        expect(await store.consumeToken('tok-1', req.action_digest, 'alice', at(2 * MIN))).toMatchObject({
          ok: true,
        });
        expect(await store.consumeToken('tok-1', req.action_digest, 'alice', at(2 * MIN))).toMatchObject({
          ok: false,
          reason: 'consumed',
        });
      });

      it('expires pending requests and unused tokens, and lists by status', async () => {
        const used = await approved('tok-a', { action_digest: '3'.repeat(64) });
        await approved('tok-b', { action_digest: '4'.repeat(64) });
        const pending = approval({ action_digest: '5'.repeat(64), expires_at: at(30 * MIN) });
        await store.createApproval(pending);
        await store.createApproval(approval({ action_digest: '6'.repeat(64), expires_at: at(3 * MIN) }));
        expect((await store.consumeToken('tok-a', used.action_digest, 'alice', at(2 * MIN))).ok).toBe(true);

        expect(await store.expireApprovals(at(10 * MIN))).toBe(2);
        expect(
          (await store.listApprovals({ status: 'expired', limit: 10 })).map((r) => r.action_digest).sort(),
        ).toEqual(['4'.repeat(64), '6'.repeat(64)]);
        expect((await store.listApprovals({ status: 'pending', limit: 10 })).map((r) => r.id)).toEqual([
          pending.id,
        ]);
        expect(await store.listApprovals({ limit: 10 })).toHaveLength(4);
        expect(await store.listApprovals({ limit: 2 })).toHaveLength(2);
        expect(await store.consumeToken('tok-b', '4'.repeat(64), 'alice', at(2 * MIN))).toMatchObject({
          ok: false,
          reason: 'expired',
        });
      });

      it('lets exactly one of 20 concurrent redemptions by id win, for the requester only', async () => {
        const req = approval();
        await store.createApproval(req);
        await store.decideApproval(req.id, approve('bob'), at(MIN), 5 * MIN);
        // Another principal is refused and the approval stays redeemable by its requester.
        expect(await store.consumeApproval(req.id, req.action_digest, 'mallory', at(2 * MIN))).toMatchObject({
          ok: false,
          reason: 'wrong_principal',
          request: { id: req.id, status: 'approved' },
        });
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            // The requester, in another spelling of the same canonical principal.
            store.consumeApproval(req.id, req.action_digest, 'Alice\u200b', at(2 * MIN)),
          ),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        expect(winners[0]).toMatchObject({ ok: true, request: { id: req.id, status: 'consumed' } });
        for (const l of results.filter((r) => !r.ok))
          expect(l).toMatchObject({ ok: false, reason: 'consumed' });
      });

      it('names why an approval cannot be redeemed by id, and gives back one whose write was not recorded', async () => {
        expect(await store.consumeApproval('apr_missing', 'a'.repeat(64), 'alice', at(2 * MIN))).toEqual({
          ok: false,
          reason: 'unknown',
        });
        const pending = approval({ action_digest: '7'.repeat(64) });
        await store.createApproval(pending);
        expect(
          await store.consumeApproval(pending.id, pending.action_digest, 'alice', at(2 * MIN)),
        ).toMatchObject({
          ok: false,
          reason: 'not_approved',
        });

        // Redeemable by id whether or not its token was issued; the token then redeems nothing.
        const req = await approved('tok-id');
        expect(await store.consumeApproval(req.id, 'e'.repeat(64), 'alice', at(2 * MIN))).toMatchObject({
          ok: false,
          reason: 'wrong_digest',
        });
        expect(await store.consumeApproval(req.id, req.action_digest, 'alice', at(6 * MIN))).toMatchObject({
          ok: false,
          reason: 'expired',
        });
        const won = await store.consumeApproval(req.id, req.action_digest, 'alice', at(2 * MIN));
        expect(won).toMatchObject({ ok: true, request: { status: 'consumed', consumed_at: at(2 * MIN) } });
        expect(await store.consumeToken('tok-id', req.action_digest, 'alice', at(2 * MIN))).toMatchObject({
          ok: false,
          reason: 'consumed',
        });

        // Given back only as the consumption it was.
        expect(await store.releaseApproval(req.id, at(3 * MIN))).toBe(false);
        expect(await store.releaseApproval(req.id, at(2 * MIN))).toBe(true);
        expect((await store.getApproval(req.id))?.status).toBe('approved');
        expect(await store.releaseApproval(req.id, at(2 * MIN))).toBe(false);
        expect((await store.consumeToken('tok-id', req.action_digest, 'alice', at(3 * MIN))).ok).toBe(true);
      });
    });

    describe('documents', () => {
      it('versions documents and refuses stale writes', async () => {
        const created = await store.putDoc('rotations', 'r1', { step: 'created' }, 0);
        expect(created).toMatchObject({
          collection: 'rotations',
          id: 'r1',
          version: 1,
          value: { step: 'created' },
        });
        await expect(store.putDoc('rotations', 'r1', { step: 'again' }, 0)).rejects.toThrow(
          VersionConflictError,
        );

        const moved = await store.putDoc('rotations', 'r1', { step: 'set_pending' }, 1);
        expect(moved.version).toBe(2);
        await expect(store.putDoc('rotations', 'r1', { step: 'stale' }, 1)).rejects.toThrow(
          VersionConflictError,
        );
        await expect(store.putDoc('rotations', 'missing', { step: 'x' }, 3)).rejects.toThrow(
          VersionConflictError,
        );

        const forced = await store.putDoc('rotations', 'r1', {
          step: 'finished',
          nested: { list: [1, 'two', null] },
        });
        expect(forced.version).toBe(3);
        expect(await store.getDoc('rotations', 'r1')).toMatchObject({
          version: 3,
          value: { step: 'finished', nested: { list: [1, 'two', null] } },
        });
        expect(await store.getDoc('incidents', 'r1')).toBeUndefined();
      });

      it('lets one of several concurrent writers of the same version win', async () => {
        await store.putDoc('incidents', 'inc-1', { n: 0 }, 0);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => store.putDoc('incidents', 'inc-1', { n: i + 1 }, 1)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results.filter((x) => x.status === 'rejected'))
          expect(r.reason).toBeInstanceOf(VersionConflictError);
        expect((await store.getDoc('incidents', 'inc-1'))?.version).toBe(2);
      });

      it('lists a collection by id page by page and deletes', async () => {
        for (const id of ['c', 'a', 'd', 'b', 'B']) await store.putDoc('grants', id, { id });
        await store.putDoc('other', 'a', {});
        // Byte order on both backends, so that a page cursor means the same thing everywhere.
        const page1 = await store.listDocs<{ id: string }>('grants', 2);
        expect(page1.map((d) => d.id)).toEqual(['B', 'a']);
        expect(page1[0]?.value).toEqual({ id: 'B' });
        const page2 = await store.listDocs('grants', 2, 'a');
        expect(page2.map((d) => d.id)).toEqual(['b', 'c']);
        expect((await store.listDocs('grants', 2, 'c')).map((d) => d.id)).toEqual(['d']);
        expect(await store.deleteDoc('grants', 'a')).toBe(true);
        expect(await store.deleteDoc('grants', 'a')).toBe(false);
        expect((await store.listDocs('grants', 10)).map((d) => d.id)).toEqual(['B', 'b', 'c', 'd']);
      });
    });

    describe('when the store cannot be written', () => {
      it('rejects appends with StoreUnavailableError while reads still work', async () => {
        await store.appendAudit({ event: 'tool_call', tool: 'get_service' });
        const readOnly = await backend.openReadOnly();
        try {
          const err = await readOnly
            .appendAudit({ event: 'tool_call', tool: 'scale_deployment' })
            .catch((e: unknown) => e);
          expect(err).toBeInstanceOf(StoreUnavailableError);
          expect((err as Error).message).toMatch(/read-only/);
          await expect(readOnly.putDoc('x', 'y', {})).rejects.toThrow(StoreUnavailableError);
          expect((await readOnly.queryAudit({ limit: 10 })).map((r) => r.seq)).toEqual([1]);
          expect(await readOnly.auditHead()).toMatchObject({ seq: 1 });
        } finally {
          await readOnly.close();
        }
        expect((await store.appendAudit({ event: 'tool_call' })).seq).toBe(2);
      });

      it('rejects every call with StoreUnavailableError once closed', async () => {
        await store.close();
        await expect(store.appendAudit({ event: 'tool_call' })).rejects.toThrow(StoreUnavailableError);
        await expect(store.queryAudit({ limit: 1 })).rejects.toThrow(StoreUnavailableError);
        await expect(store.consumeToken('t', 'd', 'alice', T0)).rejects.toThrow(StoreUnavailableError);
      });
    });
  },
);
