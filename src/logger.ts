/**
 * The library-wide logger for the networking layers (connection, server): a four-method sink that defaults to
 * `console`, filtered by the `SMALL_WEBRTC_LOG` environment variable (`debug` | `info` | `warn` | `error` |
 * `silent`, default `warn`). Install an application logger (pino, winston...) with {@link setLogger}.
 */
export interface Logger {
  /** Per-event detail (dropped messages, skipped candidates); off by default. */
  debug(message: string, ...details: unknown[]): void;
  /** Lifecycle milestones (connected, closed). */
  info(message: string, ...details: unknown[]): void;
  /** Something was dropped or misused but the connection continues. */
  warn(message: string, ...details: unknown[]): void;
  /** An event handler threw, or an unexpected library failure. */
  error(message: string, ...details: unknown[]): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** A log level name; messages below the level are dropped. */
export type LogLevelName = (typeof LEVELS)[number];

function envLevel(): LogLevelName {
  const raw = (typeof process !== 'undefined' ? process.env['SMALL_WEBRTC_LOG'] : undefined) ?? 'warn';
  return (LEVELS as readonly string[]).includes(raw) ? (raw as LogLevelName) : 'warn';
}

/** A console-backed logger that drops messages below `level`. */
export function consoleLogger(level: LogLevelName = envLevel()): Logger {
  const min = LEVELS.indexOf(level);
  const on = (l: LogLevelName): boolean => LEVELS.indexOf(l) >= min;
  return {
    debug: (m, ...d) => (on('debug') ? console.debug(`[small-webrtc] ${m}`, ...d) : undefined),
    info: (m, ...d) => (on('info') ? console.info(`[small-webrtc] ${m}`, ...d) : undefined),
    warn: (m, ...d) => (on('warn') ? console.warn(`[small-webrtc] ${m}`, ...d) : undefined),
    error: (m, ...d) => (on('error') ? console.error(`[small-webrtc] ${m}`, ...d) : undefined),
  };
}

let current: Logger = consoleLogger();

/** The active logger; call it at log time so a logger installed later still takes effect. */
export function getLogger(): Logger {
  return current;
}

/** Installs the library logger; `null` restores the default console logger (level from `SMALL_WEBRTC_LOG`). */
export function setLogger(next: Logger | null): void {
  current = next ?? consoleLogger();
}
