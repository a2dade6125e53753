import type { Redactor } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured logs, one JSON object a line, to stderr only: stdout belongs to the stdio transport. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Masks secrets in every entry: the runtime's, so that values its providers handled are known. */
  redactor: Redactor;
  /** Entries below this level are dropped (default info); the CLI resolves it from DAY2_LOG_LEVEL. */
  level?: LogLevel;
  /** Where each line goes (default stderr). */
  sink?: (line: string) => void;
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions): Logger {
  const min = ORDER[opts.level ?? 'info'] ?? ORDER.info;
  const { redactor } = opts;
  const sink = opts.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    // Errors become plain data before redaction: their message and stack are not enumerable, and
    // would otherwise be logged as {}.
    const entry = redactor.redact(
      plainErrors({ ts: new Date().toISOString(), level, msg, ...base, ...fields }),
    );
    sink(redactor.redactText(JSON.stringify(entry)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** `fields` with each Error (top-level or one level down) as {name, message, code, stack, cause}. */
function plainErrors(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? errorFields(v, 0) : v;
  return out;
}

function errorFields(err: Error, depth: number): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: err.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: err.stack,
    // The cause says why: a StoreUnavailableError's driver error, for one. A few levels suffice.
    ...(err.cause instanceof Error && depth < 3
      ? { cause: errorFields(err.cause, depth + 1) }
      : err.cause !== undefined
        ? { cause: err.cause }
        : {}),
  };
}

/** A logger that drops everything; for tests and benchmarks. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
