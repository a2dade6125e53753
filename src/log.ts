import { redact, redactText } from './guards/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured logs, one JSON object a line, to stderr only: stdout belongs to the stdio transport. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  opts: { level?: LogLevel; sink?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const min =
    ORDER[opts.level ?? (process.env.DAY2_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? ORDER.info;
  const sink = opts.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const entry = redact({ ts: new Date().toISOString(), level, msg, ...base, ...fields });
    sink(redactText(JSON.stringify(entry, errorReplacer)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** A logger that drops everything; for tests and benchmarks. */
export const silentLogger: Logger = createLogger({ sink: () => {}, level: 'error' });
