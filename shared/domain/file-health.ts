// A file's health as the coordinator classifies it (DESIGN.md §4).

export type FileState =
  | 'healthy' // every block covered by all N+M stripes
  | 'degraded' // N < min coverage < N+M
  | 'critical' // min coverage = N: one more loss is data loss
  | 'unavailable' // coverage < N now, but ≥ N counting archives on servers that are down
  | 'lost' // < N even counting down servers
  | 'incomplete' // the latest version never reached N archives: a failed write
  | 'pending'; // not enough evidence yet (safe mode: servers have not all reported)

export const FILE_STATES: readonly FileState[] = ['healthy', 'degraded', 'critical', 'unavailable', 'lost', 'incomplete', 'pending'];

/** What one archive is to its file. */
export type ArchiveRole =
  | 'current' // at the latest strpver
  | 'superseded' // older strpver while the latest is not yet healthy (may still be needed)
  | 'debris' // older strpver (latest healthy), or a leftover a tombstone explains
  | 'orphan' // a lone archive for an LFN with no live version and no tombstone
  | 'corrupt'; // damaged zip or known-corrupt stripes

export type ServerState = 'up' | 'down' | 'lost';
