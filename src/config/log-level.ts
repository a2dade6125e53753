import { LOG_LEVELS, type LogLevel } from '../core/log.js';

/** The level DAY2_LOG_LEVEL names (debug, info, warn, error); info when unset or not a level. */
export function logLevelFrom(env: NodeJS.ProcessEnv): LogLevel {
  const v = env.DAY2_LOG_LEVEL;
  return LOG_LEVELS.find((l) => l === v) ?? 'info';
}
