import type { Logger } from '../../core/ports.js';

/** JSON lines on stderr, the same shape Powertools writes in Lambda, so one log query fits both. */
export function jsonLogger(service: string, level: 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const rank = { info: 0, warn: 1, error: 2, silent: 3 } as const;
  const write = (lvl: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < rank[level]) return;
    process.stderr.write(
      `${JSON.stringify({ level: lvl.toUpperCase(), message, service, timestamp: new Date().toISOString(), ...fields })}\n`,
    );
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
