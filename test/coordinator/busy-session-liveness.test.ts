// A session whose message the coordinator is still handling is not silent. The stream is paused
// while the store works, so the agent's heartbeats wait unread behind a long inventory write;
// `ecguard simulate` found servers marked down (and their sessions closed) by that wait alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { FaultyCatalogStore } from '../../coordinator/catalog/faulty-store.js';
import { openCatalogStore } from '../../coordinator/catalog/open-store.js';
import { Coordinator } from '../../coordinator/coordinator.js';
import { EventLog } from '../../coordinator/events/event-log.js';
import { SimAgent } from '../../cli/simulate/sim-agent.js';
import { SimPopulation } from '../../cli/simulate/sim-population.js';

describe('coordinator liveness: a busy session is not silent', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ecguard-busy-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('an inventory write longer than --down-after marks nobody down; a silent agent still goes down', async () => {
    const path = join(dir, 'catalog.db');
    const eventLog = new EventLog(path);
    const store = new FaultyCatalogStore(openCatalogStore(path));
    const coord = new Coordinator({ cluster: 't', listen: '127.0.0.1:0', store, insecure: true, eventLog, heartbeatMs: 100, downAfterMs: 400, safeModeTimeoutMs: 60_000 });
    const port = await coord.start();
    const pop = new SimPopulation({ servers: 3, disksPerServer: 1, profile: { nbData: 2, nbParity: 1, chunkSize: 65536 } });
    pop.hi = 40;
    const agent = new SimAgent(pop, 0, { address: `127.0.0.1:${port}`, credentials: grpc.credentials.createInsecure(), batch: 10 });
    const downs = (): string[] => eventLog.query({ types: ['server.down'] }).map((e) => e.event.subject?.serverId ?? '');
    try {
      // every batch takes 4 × downAfter in the store: 40 records, 10 per message
      store.delay('inventoryBatch', 1600);
      const kind = await agent.connect();
      assert.equal(kind, 'full');
      assert.deepEqual(agent.lost, [], 'the coordinator closed no session');
      assert.deepEqual(downs(), [], 'no server.down while its inventory was being written');
      assert.equal((await store.getServer('sim-000'))?.state, 'up');
      // live now (no longer syncing, so only the busy rule applies): one delta batch whose
      // write takes 4 × downAfter
      store.heal().delay('applyArchiveChanges', 1600);
      const acked = agent.stats.ackLatencyMs.length;
      agent.emit([...(pop.churn(1, Date.now()).get(0) ?? [])]);
      const end0 = Date.now() + 5000;
      while (agent.stats.ackLatencyMs.length === acked) {
        assert.ok(Date.now() < end0, 'the delta batch is acked');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok((agent.stats.ackLatencyMs[acked] ?? 0) >= 1500, 'the write took longer than --down-after');
      assert.deepEqual(agent.lost, [], 'the coordinator closed no session while writing a delta batch');
      assert.deepEqual(downs(), [], 'no server.down while its deltas were being written');
      store.heal();
      // the rule is not "never down": an agent that stops talking is marked down as before
      agent.disconnect();
      const end = Date.now() + 5000;
      while ((await store.getServer('sim-000'))?.state !== 'down') {
        assert.ok(Date.now() < end, 'a silent server goes down');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      agent.close();
      await coord.stop();
      eventLog.close();
    }
  });
});
