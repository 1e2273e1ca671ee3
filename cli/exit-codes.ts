// Exit codes scripts can test (documented in docs/cli.md).
export const EXIT = {
  OK: 0,
  /** The command ran and found problems (inspect), or the data could not be recovered (decode). */
  PROBLEMS: 1,
  /** Bad flags or input: nothing was changed. */
  USAGE: 2,
  /** An unexpected failure; the message says what happened. */
  INTERNAL: 70,
} as const;
