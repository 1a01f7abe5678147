import { type Logger, pino } from 'pino';

export type { Logger };

/** pino JSON to stdout; `password` fields are redacted wherever they appear. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'tandem' },
    redact: { paths: ['password', '*.password', 'users[*].password'], censor: '[redacted]' },
  });
}
