// The README's first command runs `ecguard demo`: it must keep working end to end (a local
// cluster, a failed disk repaired, an agent crash, debris quarantined, a flipped bit found by the
// scrub and repaired, the damaged archive quarantined and the downgrade cleared, the events), and its --json summary says what it saw.
import assert from 'node:assert/strict';
import { runCliAsync } from '../helpers/cli.js';

describe('ecguard demo', function () {
  this.timeout(180_000);
  it('runs every step and reports each outcome', async () => {
    const r = await runCliAsync(['demo', '--json']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const s = JSON.parse(r.stdout) as { degradedDetected: number; repaired: number; rebuiltDecodes: boolean; quarantined: boolean; corruptionRepaired: boolean; damagedQuarantined: boolean; downgradeCleared: boolean; events: Record<string, number> };
    assert.ok(s.degradedDetected > 0);
    assert.equal(s.repaired, s.degradedDetected, 'one repair task per degraded file');
    assert.equal(s.rebuiltDecodes, true);
    assert.equal(s.quarantined, true);
    assert.equal(s.corruptionRepaired, true);
    assert.equal(s.damagedQuarantined, true, 'the damaged archive, debris once rebuilt, moved aside');
    assert.equal(s.downgradeCleared, true);
    for (const t of ['disk.failed', 'file.repaired', 'server.down', 'debris.quarantined', 'corruption.found', 'disk.downgraded']) assert.ok((s.events[t] ?? 0) >= 1, `${t} in ${JSON.stringify(s.events)}`);
  });
});
