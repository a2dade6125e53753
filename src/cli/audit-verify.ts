import { witnessSettings } from '../guards/audit-config.js';
import { publicKeyFromFile, verifyAudit } from '../guards/audit-verify.js';
import type { VerifyResult } from '../guards/audit-verify.js';
import { openWitness } from '../guards/audit-witness.js';
import type { AuditCheckpoint } from '../store/store.js';
import { openCliStore } from './cli-store.js';
import { EXIT_FAIL, EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** `day2 audit verify`: walks the hash chain and the signed checkpoints, in the store and the witness. */
export const auditVerifyCommand: Command = {
  usage: `Usage: day2 audit verify [--key F] [--config F]

Checks every audit record against the hash chain, the signed checkpoints in the store and those the
witness (audit.witness) holds, and the records every executed write must leave.
Exit 0 when intact; exit 1 naming the first missing or changed record and why.
  --key F      public key (PEM) that signs checkpoints; default audit.verify_key, else the signing key`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      key: { type: 'string' },
      config: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const { store, loaded, verifyKeyPaths } = await openCliStore(io, values.config);
    const settings = witnessSettings(loaded, io.env);
    const witness = settings && openWitness(settings);
    try {
      const keyPaths = values.key ? [values.key] : verifyKeyPaths;
      let held: AuditCheckpoint[] | undefined;
      try {
        held = await witness?.read();
      } catch (err) {
        println(io.stdout, `audit log NOT VERIFIED: ${(err as Error).message}`);
        return EXIT_FAIL;
      }
      const result = await verifyAudit(
        store,
        keyPaths.length ? keyPaths.map((p) => publicKeyFromFile(p)) : undefined,
        { witness: held, requireCheckpoints: keyPaths.length > 0 },
      );
      if (!result.ok) {
        println(
          io.stdout,
          `audit log BROKEN at seq ${result.first_bad_seq}: ${result.reason} (${result.records_checked} records before it are intact)`,
        );
        return EXIT_FAIL;
      }
      const sigs = result.signatures_verified
        ? ''
        : ' (signatures not checked: no key found; set audit.verify_key or pass --key)';
      println(
        io.stdout,
        `audit log intact: ${result.records} records, ${result.checkpoints} signed checkpoints${sigs}`,
      );
      for (const w of witnessLines(result, witness?.describe, held !== undefined)) println(io.stderr, w);
      return EXIT_OK;
    } finally {
      await witness?.close();
      await store.close();
    }
  },
};

/** What the witness could vouch for, or why it could not: on stderr, beside the verdict. */
function witnessLines(
  result: Extract<VerifyResult, { ok: true }>,
  describe: string | undefined,
  readable: boolean,
): string[] {
  const head = result.head ? `seq ${result.head.seq} hash ${result.head.hash}` : 'an empty log';
  if (!describe)
    return [
      'warning: no audit.witness is configured: a cut tail or a history re-signed with the key would pass',
    ];
  if (!readable)
    return [
      `warning: the witness ${describe} cannot be read back; compare the head it received last with this log's: ${head}`,
    ];
  const w = result.witness!;
  const unwitnessed = result.records - w.latest_seq;
  return [
    `witness ${describe}: ${w.checkpoints} checkpoints up to seq ${w.latest_seq}` +
      (unwitnessed > 0 ? `; the last ${unwitnessed} records are covered by the chain alone` : ''),
  ];
}
