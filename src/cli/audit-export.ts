import { openCliStore } from './cli-store.js';
import { EXIT_OK, parseCommandArgs, UsageError, type Command } from './io.js';

/** `day2 audit export`: every record as JSON lines, for a SIEM or an archive. */
export const auditExportCommand: Command = {
  usage: `Usage: day2 audit export [--since T] [--config F]

Writes audit records to stdout as JSON lines (oldest first), each with its seq, ts, prev_hash
and hash, so that the chain can be checked elsewhere.
  --since T   only records at or after T (ISO 8601, e.g. 2026-11-26T00:00:00Z)`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      since: { type: 'string' },
      config: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    let since: string | undefined;
    if (values.since !== undefined) {
      const t = Date.parse(values.since);
      if (!Number.isFinite(t))
        throw new UsageError(
          `--since: not a time: ${values.since} (use ISO 8601, e.g. 2026-11-26T00:00:00Z)`,
        );
      since = new Date(t).toISOString();
    }
    const { store } = await openCliStore(io, values.config);
    try {
      for await (const batch of store.scanAudit(5000)) {
        let out = '';
        for (const r of batch) {
          if (since && r.ts < since) continue;
          out +=
            JSON.stringify({
              seq: r.seq,
              ts: r.ts,
              record: JSON.parse(r.record) as unknown,
              prev_hash: r.prev_hash,
              hash: r.hash,
            }) + '\n';
        }
        if (out && !io.stdout.write(out)) await new Promise((resolve) => io.stdout.once('drain', resolve));
      }
      return EXIT_OK;
    } finally {
      await store.close();
    }
  },
};
