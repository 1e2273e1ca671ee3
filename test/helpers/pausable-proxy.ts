// A loopback TCP relay between an agent and the coordinator that a test can stall and cut. Stalled,
// it stops reading what the agent sends: the coordinator gets nothing more, grants no more HTTP/2
// flow-control window, and the agent's stream fills up and waits for 'drain' — a coordinator
// that has stopped reading, at a moment the test picks. Cut, it resets both connections, as the
// kernel does when the coordinator's process dies.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface PausableProxy {
  readonly port: number;
  /** Stops reading from the agents (existing and new connections) until resume(). */
  stall(): void;
  resume(): void;
  /** Resets every open connection, both sides. */
  cut(): void;
  /** Open agent-side connections. */
  readonly open: number;
  close(): Promise<void>;
}

export async function startPausableProxy(targetPort: () => number): Promise<PausableProxy> {
  const pairs = new Set<{ agent: Socket; coord: Socket }>();
  let stalled = false;
  const server: Server = createServer((agent) => {
    const coord = connect(targetPort(), '127.0.0.1');
    const pair = { agent, coord };
    pairs.add(pair);
    if (stalled) agent.pause();
    agent.on('data', (d) => coord.write(d));
    coord.on('data', (d) => agent.write(d));
    const end = (): void => {
      pairs.delete(pair);
      if (!agent.destroyed) agent.resetAndDestroy();
      if (!coord.destroyed) coord.resetAndDestroy();
    };
    agent.on('close', end).on('error', end);
    coord.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('proxy has no port');
  return {
    port: addr.port,
    stall() {
      stalled = true;
      for (const p of pairs) p.agent.pause();
    },
    resume() {
      stalled = false;
      for (const p of pairs) p.agent.resume();
    },
    cut() {
      for (const p of [...pairs]) {
        pairs.delete(p);
        p.agent.resetAndDestroy();
        p.coord.resetAndDestroy();
      }
    },
    get open() {
      return pairs.size;
    },
    close: () => {
      for (const p of pairs) {
        p.agent.destroy();
        p.coord.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
