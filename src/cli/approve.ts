import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ApprovalError } from '../guards/approvals.js';
import { localPrincipalId } from '../core/principal.js';
import { approvers } from '../guards/approver-check.js';
import { signDecision, SIGNED_CHANNEL, type DecisionStatement } from '../guards/approver-keys.js';
import { renderApproval } from './approval-view.js';
import { openCliRuntime } from './cli-runtime.js';
import { EXIT_FAIL, EXIT_OK, parseCommandArgs, println, UsageError, type CliIo, type Command } from './io.js';

/** `day2 approve <id>`: shows the full plan, asks on a terminal, records one approval. */
export const approveCommand: Command = {
  usage: `Usage: day2 approve <approval-id> [--reason R] [--key FILE] [--yes] [--config F]

Shows the full plan of a pending request and, after you confirm, records your approval.
You are DAY2_PRINCIPAL, else your OS user name. Once enough approvers agreed, the requester reads
the single-use token once with get_approval (printed here instead when you are the requester).
  --reason R   why you approve (some policy rules require it)
  --key FILE   sign the approval with your Ed25519 private key (PEM); its public key must be
               under approvals.keys for you. The policy channel is then "signed".
  --yes, -y    do not ask for confirmation (for scripts; needed when stdin is not a terminal)
  --config F   day2.yaml to read the store location from`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      reason: { type: 'string' },
      key: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      config: { type: 'string' },
    });
    const id = positionals[0];
    if (!id || positionals.length > 1)
      throw new UsageError('give exactly one approval id, e.g. day2 approve apr_1a2b3c4d5e6f7a8b');
    const principal = localPrincipalId(io.env);
    const { rt } = await openCliRuntime(io, values.config);
    try {
      const request = await rt.approvals.get(id);
      if (request) println(io.stdout, renderApproval(request));
      if (request && !values.yes) {
        if (!io.stdin.isTTY) {
          println(
            io.stderr,
            'Not approved: stdin is not a terminal, so day2 cannot ask you to confirm. Pass --yes to approve without the question.',
          );
          return EXIT_FAIL;
        }
        if (!(await confirm(io, `Approve as ${principal}? [y/N] `))) {
          println(io.stderr, 'Not approved.');
          return EXIT_FAIL;
        }
      }
      let updated;
      try {
        updated = await rt.approvals.approve(id, principal, {
          reason: values.reason,
          ...(values.key && request
            ? {
                channel: SIGNED_CHANNEL,
                signature: signWith(io, values.key, {
                  approval_id: id,
                  action_digest: request.action_digest,
                  decision: 'approve',
                  principal,
                }),
              }
            : { channel: 'cli' }),
        });
      } catch (err) {
        if (err instanceof ApprovalError) {
          println(io.stderr, `Not approved: ${err.message}`);
          return EXIT_FAIL;
        }
        throw err;
      }
      const got = approvers(updated).length;
      const needed = updated.policy.approvals_needed;
      if (updated.status !== 'approved') {
        println(
          io.stdout,
          `${got} of ${needed} approvals recorded; once ${needed} of ${needed} approve, ${updated.requester} reads the single-use token with get_approval.`,
        );
        return EXIT_OK;
      }
      println(io.stdout, `Approved by ${principal} (${got} of ${needed}).`);
      // The token goes to the requester only, once. Where the approver is the requester (a rule
      // that does not ask for another approver), this is that once.
      const issue = await rt.approvals.issueToken(updated, principal);
      if (issue.issued)
        println(
          io.stdout,
          `token: ${issue.token}\nShown only this once. It is valid once, for this exact action, until ${issue.request.token_expires_at ?? updated.expires_at}.`,
        );
      else
        println(
          io.stdout,
          `${updated.requester} reads the single-use token once with get_approval {"approval_id":"${updated.id}"}; it is valid until ${updated.token_expires_at ?? updated.expires_at}.`,
        );
      return EXIT_OK;
    } finally {
      await rt.close();
    }
  },
};

/** Signs with the key in `file`; a key that cannot be used is a usage error naming the file. */
function signWith(io: CliIo, file: string, statement: DecisionStatement): string {
  let pem: string;
  try {
    pem = readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`--key: cannot read ${file} (${(err as Error).message})`);
  }
  try {
    return signDecision(pem, statement);
  } catch (err) {
    throw new UsageError(`--key: ${file} is not an Ed25519 private key in PEM (${(err as Error).message})`);
  }
}

async function confirm(io: CliIo, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
