// Named points where a test can have this process killed with SIGKILL, to prove crash safety at
// exactly that moment (the repair must-show: kill -9 at each phase; a release of held file
// changes between two pages). Armed only by the environment variable
// ECGUARD_FAULT_KILL_AT=<point>; it does nothing otherwise.
export type FaultPoint = 'repair-fetching' | 'repair-decoding' | 'repair-writing-temp' | 'repair-after-rename' | 'held-release-page'
  /** The agent's inventory is updated, the journal not yet (they must commit together). */
  | 'agent-before-journal';

export function faultPoint(point: FaultPoint): void {
  if (process.env.ECGUARD_FAULT_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
}
