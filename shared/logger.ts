// One winston logger for the process; every component takes a named child so log lines say
// where they come from. Logs go to stderr: stdout is reserved for command output (tables, --json).
import winston from 'winston';

const level = process.env.ECGUARD_LOG_LEVEL ?? 'info';

const root = winston.createLogger({
  level,
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.printf((info) => {
      const { timestamp, level: lvl, message, component, ...rest } = info as Record<string, unknown>;
      const extra = Object.keys(rest).length > 0 ? ' ' + JSON.stringify(rest) : '';
      return `${String(timestamp)} ${String(lvl)} [${String(component ?? 'ecguard')}] ${String(message)}${extra}`;
    }),
  ),
  transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
});

export type Logger = winston.Logger;

export function getLogger(component: string): Logger {
  return root.child({ component });
}

export function setLogLevel(newLevel: string): void {
  root.level = newLevel;
}
