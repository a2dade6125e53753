import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a command reads and writes; the real process by default, captured in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});

/** Exit codes: 0 done, 1 refused or failed, 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

/** Bad arguments; the command's usage is printed with the message and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One command: its usage text and what it does. */
export interface Command {
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with a --help flag on every command; errors become UsageError. */
export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(text + '\n');
}
