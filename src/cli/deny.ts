import { ApprovalError } from '../guards/approvals.js';
import { localPrincipalId } from '../core/principal.js';
import { openCliRuntime } from './cli-runtime.js';
import { EXIT_FAIL, EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** `day2 deny <id>`: refuses a pending request; its token can then never be used. */
export const denyCommand: Command = {
  usage: `Usage: day2 deny <approval-id> [--reason R] [--config F]

Denies a pending approval request. You are DAY2_PRINCIPAL, else your OS user name.
  --reason R   why (shown in the audit log)
  --config F   day2.yaml to read the store location from`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      reason: { type: 'string' },
      config: { type: 'string' },
    });
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new UsageError('give exactly one approval id');
    const principal = localPrincipalId(io.env);
    const { rt } = await openCliRuntime(io, values.config);
    try {
      await rt.approvals.deny(id, principal, { reason: values.reason, channel: 'cli' });
      println(io.stdout, `Denied ${id} as ${principal}.`);
      return EXIT_OK;
    } catch (err) {
      if (err instanceof ApprovalError) {
        println(io.stderr, `Not denied: ${err.message}`);
        return EXIT_FAIL;
      }
      throw err;
    } finally {
      await rt.close();
    }
  },
};
