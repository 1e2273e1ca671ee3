// How an agent retries a lost coordinator stream: exponential backoff from RETRY_FIRST_MS, capped
// at RETRY_MAX_MS, each wait jittered by ±RETRY_JITTER. The coordinator needs the worst case: a
// restarted coordinator waits that long for agents before calling any of them down.
export const AGENT_RETRY_FIRST_MS = 500;
export const AGENT_RETRY_MAX_MS = 30_000;
export const AGENT_RETRY_JITTER = 0.25;

/** The longest an agent may wait before its next try. */
export const AGENT_LONGEST_RETRY_MS = AGENT_RETRY_MAX_MS * (1 + AGENT_RETRY_JITTER);
