// Which agent stream currently speaks for which server. One stream per server id: a second
// agent claiming a connected server id is refused (an impersonator, or a misconfigured clone),
// unless it is the same agent instance reconnecting (agent-session.ts closes the old stream).
import type { RepairSession } from '../repair/repair-host.js';
import type { DebrisSession } from '../debris/debris-quarantine.js';

export interface SessionHandle extends RepairSession, DebrisSession {
  readonly serverId: string;
  readonly peer: string;
  readonly instanceId: string;
  readonly since: number;
  close(code: string, reason: string): void;
  /** Settles once the message it is handling, if any, is done. */
  idle(): Promise<void>;
  /** A message of this server is being handled (its stream is paused meanwhile, so the agent's heartbeats wait unread). */
  readonly busy: boolean;
}

export class SessionRegistry {
  private readonly sessions = new Map<string, SessionHandle>();

  /** Claims a server id for a session; returns the holder when it is taken. */
  claim(s: SessionHandle): SessionHandle | undefined {
    const holder = this.sessions.get(s.serverId);
    if (holder && holder !== s) return holder;
    this.sessions.set(s.serverId, s);
    return undefined;
  }

  release(s: SessionHandle): void {
    if (this.sessions.get(s.serverId) === s) this.sessions.delete(s.serverId);
  }

  get(serverId: string): SessionHandle | undefined {
    return this.sessions.get(serverId);
  }

  connected(serverId: string): boolean {
    return this.sessions.has(serverId);
  }

  all(): SessionHandle[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }
}
