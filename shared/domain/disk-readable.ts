// A disk whose archives are there and read: online, or downgraded (which only takes no new
// placements). One definition for the agent and the coordinator, so scans, watches, quarantine,
// debris announcements, repair sources and reclassification agree on it.
export function diskReadable(state: string | undefined): boolean {
  return state === 'online' || state === 'downgraded';
}
