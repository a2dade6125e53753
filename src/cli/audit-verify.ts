import { publicKeyFromFile, verifyAudit } from '../guards/audit-verify.js';
import { openCliStore } from './cli-store.js';
import { EXIT_FAIL, EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** `day2 audit verify`: walks the hash chain and the signed checkpoints. */
export const auditVerifyCommand: Command = {
  usage: `Usage: day2 audit verify [--key F] [--config F]

Checks every audit record against the hash chain and every signed checkpoint.
Exit 0 when intact; exit 1 naming the first bad record and why.
  --key F      public or private key (PEM) that signs checkpoints; default: the configured signing key`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      key: { type: 'string' },
      config: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const { store, signingKeyPath } = await openCliStore(io, values.config);
    try {
      const keyPath = values.key ?? signingKeyPath;
      const result = await verifyAudit(store, keyPath ? publicKeyFromFile(keyPath) : undefined);
      if (!result.ok) {
        println(
          io.stdout,
          `audit log BROKEN at seq ${result.first_bad_seq}: ${result.reason} (${result.records_checked} records before it are intact)`,
        );
        return EXIT_FAIL;
      }
      const sigs = result.signatures_verified
        ? ''
        : ' (signatures not checked: no signing key found; pass --key)';
      println(
        io.stdout,
        `audit log intact: ${result.records} records, ${result.checkpoints} signed checkpoints${sigs}`,
      );
      return EXIT_OK;
    } finally {
      await store.close();
    }
  },
};
