import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { defineTool, type AnyTool } from '../src/contract/define-tool.js';
import { approvalTokenField, dryRunField, envField } from '../src/contract/fields.js';

/** The same trivial work for the governed tools and the bare SDK baseline. */
export function echoWork(text: string): { echoed: string; length: number } {
  return { echoed: text, length: text.length };
}

/** A governed read doing echoWork, so that the difference to the bare tool is day2's pipeline. */
export const benchRead = defineTool({
  name: 'bench_read',
  title: 'Bench read',
  description: 'Benchmark only: echoes its input.',
  toolset: 'bench',
  effect: 'read',
  risk: 'low',
  input: { text: z.string().describe('text to echo') },
  output: { echoed: z.string(), length: z.number() },
  run: (args) => Promise.resolve(echoWork(args.text)),
  render: (o) => o.echoed,
});

/** A governed write (allowed by the bench policy) whose execution is echoWork. */
export const benchWrite = defineTool({
  name: 'bench_write',
  title: 'Bench write',
  description: 'Benchmark only: a write that echoes its input after its audit record is durable.',
  toolset: 'bench',
  effect: 'write',
  risk: 'low',
  input: {
    env: envField,
    text: z.string().describe('text to echo'),
    approval_token: approvalTokenField,
    dry_run: dryRunField,
  },
  output: { echoed: z.string(), length: z.number() },
  plan: (args) =>
    Promise.resolve({
      summary: `echo ${args.text.length} characters`,
      env: args.env,
      targets: [{ kind: 'echo', name: 'bench' }],
      preconditions: {},
      details: {},
    }),
  execute: (args) => Promise.resolve(echoWork(args.text)),
  render: (o) => o.echoed,
});

export const benchTools: AnyTool[] = [benchRead, benchWrite];

/** A day2.yaml in `dir` for the bench tools: one development env, bench_write allowed outright. */
export function writeBenchConfig(dir: string): string {
  const path = join(dir, 'day2.yaml');
  writeFileSync(
    path,
    stringify({
      environments: { bench: { tier: 'development' } },
      policy: {
        version: 'bench',
        rules: [{ id: 'bench-writes-allowed', match: { tool: 'bench_write' }, decision: 'allow' }],
      },
      audit: { signing_key_file: join(dir, 'key.pem') },
    }),
  );
  return path;
}
