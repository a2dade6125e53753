import type { AuditRecord } from '../store/store.js';
import { openCliStore } from './cli-store.js';
import { EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** `day2 audit tail`: the newest records, one line each. */
export const auditTailCommand: Command = {
  usage: `Usage: day2 audit tail [-n N] [--config F]

Prints the newest N audit records (default 20), oldest first, one line each.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      n: { type: 'string', short: 'n' },
      config: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const n = values.n === undefined ? 20 : Number(values.n);
    if (!Number.isInteger(n) || n < 1) throw new UsageError('-n takes a positive whole number');
    const { store } = await openCliStore(io, values.config);
    try {
      const rows = await store.queryAudit({ limit: n, desc: true });
      for (const r of rows.reverse()) println(io.stdout, auditLine(r));
      if (rows.length === 0) println(io.stderr, 'The audit log is empty.');
      return EXIT_OK;
    } finally {
      await store.close();
    }
  },
};

function auditLine(r: AuditRecord): string {
  const rec = JSON.parse(r.record) as {
    event?: string;
    tool?: string;
    resource?: string;
    env?: string;
    principal?: string;
    transport?: string;
    policy?: { decision?: string; rule?: string };
    outcome?: { ok?: boolean; error?: string };
    approval?: { id?: string };
    detail?: { why?: string };
  };
  const refused = rec.event === 'tool.refused';
  const parts = [
    `#${r.seq}`,
    r.ts,
    rec.event ?? '?',
    rec.tool ?? rec.resource ?? '',
    rec.env ? `env=${rec.env}` : '',
    `by=${rec.principal ?? '?'}${rec.transport ? `/${rec.transport}` : ''}`,
    rec.policy ? `policy=${rec.policy.decision ?? '?'}(${rec.policy.rule ?? '?'})` : '',
    rec.approval?.id ? `approval=${rec.approval.id}` : '',
    rec.outcome
      ? rec.outcome.ok
        ? 'ok'
        : `${refused ? 'REFUSED' : 'FAILED'} ${rec.outcome.error ?? ''}`
      : '',
    // Why a call was refused, on one line: the same sentence the model was given.
    refused && rec.detail?.why ? `(${rec.detail.why.replace(/\s+/g, ' ').slice(0, 200)})` : '',
  ];
  return parts.filter(Boolean).join(' ');
}
