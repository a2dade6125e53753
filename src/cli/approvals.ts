import { approvers } from '../guards/approver-check.js';
import { openCliRuntime } from './cli-runtime.js';
import { EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** `day2 approvals`: the pending requests, as a table. */
export const approvalsCommand: Command = {
  usage: `Usage: day2 approvals [--config F]

Lists pending approval requests. Approve one with: day2 approve <id>`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { config: { type: 'string' } });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const { rt } = await openCliRuntime(io, values.config);
    try {
      const pending = await rt.approvals.pending(100);
      if (pending.length === 0) {
        println(io.stdout, 'No pending approvals.');
        return EXIT_OK;
      }
      const rows = [
        ['ID', 'TOOL', 'ENV', 'REQUESTER', 'APPROVALS', 'EXPIRES', 'SUMMARY'],
        ...pending.map((r) => [
          r.id,
          r.tool,
          r.env,
          r.requester,
          `${approvers(r).length}/${r.policy.approvals_needed}`,
          r.expires_at,
          r.summary,
        ]),
      ];
      println(io.stdout, table(rows));
      return EXIT_OK;
    } finally {
      await rt.close();
    }
  },
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
