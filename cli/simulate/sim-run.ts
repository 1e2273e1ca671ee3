// `ecguard simulate` (DESIGN.md §9): synthetic agents drive a real coordinator through what a
// site lives through, each phase timed and checked against what the population says the
// coordinator must show:
//   inventory  every server's full inventory from nothing, until every file is classified healthy;
//   churn      files created and deleted as live deltas, and how long their acks take;
//   disk       a disk goes missing: time until every file with an archive there is shown damaged;
//              its agent restarts without its journal meanwhile (a resync); the disk returns;
//   server     a server stops talking: time until its files are shown degraded; files created and
//              deleted while it is away (with churn); then its return by journal replay;
//   restart    the coordinator is killed (-9) with changes in flight and restarted: the agents
//              replay their journals, nobody re-sends an inventory;
//   resync     every agent restarts without its journal while files changed: digest resync.
import * as grpc from '@grpc/grpc-js';
import type { StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { EcguardError } from '../../shared/errors.js';
import { SimAgent, type SyncKind } from './sim-agent.js';
import { SimCoordinator } from './sim-coordinator.js';
import { SimPopulation } from './sim-population.js';
import { check, count, total, type SimOptions, type SimPhase, type SimPhaseResult, type SimReport } from './sim-report.js';

export { SIM_PHASES, type SimOptions, type SimPhase, type SimPhaseResult, type SimReport } from './sim-report.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Simulation {
  readonly pop: SimPopulation;
  readonly coordinator: SimCoordinator;
  private agents: SimAgent[] = [];
  private readonly results: SimPhaseResult[] = [];
  private lostBefore = 0;
  /** The most files the coordinator showed lost while this phase polled it (none ever is). */
  private lostSeen = 0;

  constructor(private readonly o: SimOptions) {
    this.pop = new SimPopulation(o.shape);
    this.coordinator = new SimCoordinator({ dir: o.dir, db: o.db, heartbeat: '1s', downAfter: o.downAfter, settle: '2s' });
  }

  async run(): Promise<SimReport> {
    try {
      await this.coordinator.start();
      const creds = grpc.credentials.createInsecure();
      this.agents = Array.from({ length: this.o.shape.servers }, (_, s) => new SimAgent(this.pop, s, { address: this.coordinator.address, credentials: creds, batch: this.o.batch }));
      this.pop.hi = this.o.files;
      await this.inventory();
      if (this.o.phases.has('churn') && this.o.churnPerSecond > 0 && this.o.churnSeconds > 0) await this.churn();
      if (this.o.phases.has('disk')) await this.disk();
      if (this.o.phases.has('server')) await this.server();
      if (this.o.phases.has('restart')) await this.restart();
      if (this.o.phases.has('resync')) await this.resync();
      this.coordinator.sampleMemory();
    } finally {
      for (const a of this.agents) a.close();
      await this.coordinator.stop();
    }
    const p = this.o.shape.profile;
    return {
      servers: this.o.shape.servers, disksPerServer: this.o.shape.disksPerServer, profile: `${p.nbData}+${p.nbParity}:${p.chunkSize}`,
      files: this.pop.files, archives: this.pop.files * this.pop.width, coordinatorPeakRssMB: Math.round(this.coordinator.peakRssMB),
      phases: this.results, ok: this.results.every((r) => r.checks.every((c) => c.ok)),
    };
  }

  private record(r: Omit<SimPhaseResult, 'coordinatorCpuSeconds'>, cpu0: number): void {
    // a session the coordinator closed (say, a server it wrongly thought silent) is a finding,
    // except where the phase kills the coordinator itself
    const lost = this.sum((a) => a.lost.length);
    const closed = lost - this.lostBefore;
    this.lostBefore = lost;
    const checks = [...(r.phase === 'restart' ? r.checks : [...r.checks, check('sessions the coordinator closed', 0, closed)]), check('files ever shown lost', 0, this.lostSeen)];
    this.lostSeen = 0;
    const full: SimPhaseResult = { ...r, checks, coordinatorCpuSeconds: Math.round((this.coordinator.cpuSeconds() - cpu0) * 100) / 100 };
    this.coordinator.sampleMemory();
    this.results.push(full);
    this.o.onPhase?.(full);
  }

  /** Polls the coordinator until `done` holds; the error names the phase and the last status. */
  private async until(phase: SimPhase, what: string, done: (s: StatusReply) => boolean): Promise<StatusReply> {
    const end = Date.now() + this.o.timeoutMs;
    let last: StatusReply | undefined;
    let shown = Date.now();
    for (;;) {
      last = await this.coordinator.status();
      this.lostSeen = Math.max(this.lostSeen, count(last, 'lost'));
      if (done(last)) return last;
      if (Date.now() - shown >= 5000) {
        // long phases (millions of archives) show where they are
        shown = Date.now();
        const sent = this.sum((a) => a.stats.recordsSent + a.stats.deltasSent + a.stats.digestRecordsSent);
        this.o.onProgress?.(`${phase}: waiting for ${what}; ${sent} records and deltas sent so far, the coordinator shows ${last.filesByState.filter((x) => x.count > 0).map((x) => `${x.state} ${x.count}`).join(', ') || 'no files yet'}${last.safeMode?.active ? ' (safe mode)' : ''}`);
      }
      if (Date.now() > end) {
        const states = last.filesByState.map((x) => `${x.state} ${x.count}`).join(', ') || 'no files';
        throw new EcguardError('SIM_TIMEOUT', `simulate ${phase}: no ${what} after ${this.o.timeoutMs / 1000} s (coordinator shows ${states}; safe mode ${last.safeMode?.active ? 'on' : 'off'}); raise --timeout, or see ${this.o.dir}/coordinator.log`);
      }
      await sleep(50);
    }
  }

  private allHealthy = (s: StatusReply): boolean => count(s, 'healthy') === this.pop.files && total(s) === this.pop.files && !s.safeMode?.active;

  /** Connects an agent, again while the coordinator still holds its previous session. */
  private async connect(a: SimAgent): Promise<SyncKind> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await a.connect();
      } catch (e) {
        const busy = e instanceof EcguardError && /DUPLICATE_SERVER|UNAVAILABLE|ECONNREFUSED|No connection established/.test(e.message);
        if (!busy || attempt >= 100) throw e;
        await sleep(100);
      }
    }
  }

  private async connectAll(): Promise<SyncKind[]> {
    const sent = (): number => this.sum((a) => a.stats.recordsSent + a.stats.deltasSent + a.stats.digestRecordsSent);
    const t = setInterval(() => this.o.onProgress?.(`${this.agents.filter((a) => a.connected).length} of ${this.agents.length} agents synced; ${sent()} records and deltas sent so far`), 5000);
    try {
      return await Promise.all(this.agents.map((a) => this.connect(a)));
    } finally {
      clearInterval(t);
    }
  }

  private sum(f: (a: SimAgent) => number): number {
    return this.agents.reduce((n, a) => n + f(a), 0);
  }

  private async inventory(): Promise<void> {
    const cpu0 = this.coordinator.cpuSeconds();
    const t0 = Date.now();
    this.o.onProgress?.(`inventory: ${this.agents.length} agents sending ${this.pop.files * this.pop.width} archive records`);
    await this.connectAll();
    const tAcked = (Date.now() - t0) / 1000;
    const s = await this.until('inventory', 'complete classification', this.allHealthy);
    const seconds = (Date.now() - t0) / 1000;
    const sent = this.sum((a) => a.stats.recordsSent);
    const srv = s.servers;
    this.record({
      phase: 'inventory', seconds, sent, perSecond: sent / seconds, detail: { ackedSeconds: tAcked, storedPerSecond: sent / tAcked },
      note: `every inventory acked after ${tAcked.toFixed(2)} s (${Math.round(sent / tAcked)} records/s stored); every file healthy and safe mode left after ${seconds.toFixed(2)} s`,
      checks: [check('files healthy', this.pop.files, count(s, 'healthy')), check('archives in the catalog', this.pop.files * this.pop.width, s.archives), check('servers that sent a full inventory', this.agents.length, srv.filter((x) => x.fullInventories === 1).length)],
    }, cpu0);
  }

  private async churn(): Promise<void> {
    const cpu0 = this.coordinator.cpuSeconds();
    const before = this.sum((a) => a.stats.deltasSent);
    for (const a of this.agents) a.stats.ackLatencyMs.length = 0;
    const perTick = Math.max(1, Math.round(this.o.churnPerSecond / 10));
    const t0 = Date.now();
    this.o.onProgress?.(`churn: ${perTick * 10} files created and as many deleted per second for ${this.o.churnSeconds} s`);
    for (let tick = 0; Date.now() - t0 < this.o.churnSeconds * 1000; tick++) {
      this.emitChurn(perTick);
      const next = t0 + (tick + 1) * 100;
      await sleep(Math.max(0, next - Date.now()));
    }
    const tSent = (Date.now() - t0) / 1000;
    const s = await this.until('churn', 'agreement on the files after the churn', this.allHealthy);
    const seconds = (Date.now() - t0) / 1000;
    const sent = this.sum((a) => a.stats.deltasSent) - before;
    const lat = this.agents.flatMap((a) => a.stats.ackLatencyMs).sort((x, y) => x - y);
    const pct = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0;
    this.record({
      phase: 'churn', seconds: tSent, sent, perSecond: sent / tSent, detail: { ackMedianMs: pct(0.5), ackP99Ms: pct(0.99), ackMaxMs: lat[lat.length - 1] ?? 0, agreedAfterSeconds: seconds - tSent },
      note: `delta batches acked in ${pct(0.5)} ms (median), ${pct(0.99)} ms (99th percentile), ${lat[lat.length - 1] ?? 0} ms (max); the coordinator agreed ${(seconds - tSent).toFixed(2)} s after the last change`,
      checks: [check('files healthy', this.pop.files, count(s, 'healthy')), check('files the coordinator knows', this.pop.files, total(s))],
    }, cpu0);
  }

  private emitChurn(files: number): void {
    const changes = this.pop.churn(files, Date.now());
    for (const [s, list] of changes) this.agents[s]?.emit(list);
  }

  private async disk(): Promise<void> {
    const cpu0 = this.coordinator.cpuSeconds();
    const expected = this.pop.filesOnDisk(0, 0);
    this.o.onProgress?.(`disk: ${this.agents[0]?.serverId} loses a disk holding archives of ${expected} files`);
    const t0 = Date.now();
    this.agents[0]?.diskState(0, 'missing');
    const s = await this.until('disk', `complete damaged list (${expected} files)`, (x) => count(x, 'degraded') + count(x, 'critical') >= expected);
    const seconds = (Date.now() - t0) / 1000;
    // its agent restarts without its journal while the disk is away: a digest resync must not
    // take the missing disk's archives for deletes
    const a0 = this.agents[0] as SimAgent;
    a0.restart(true);
    const kind = await this.connect(a0);
    const during = await this.until('disk', 'the same damaged list after its server\'s resync', (x) => count(x, 'healthy') === this.pop.files - expected && total(x) === this.pop.files);
    a0.diskState(0, 'online');
    const back = Date.now();
    await this.until('disk', 'healthy files after the disk returned', this.allHealthy);
    const recovered = (Date.now() - back) / 1000;
    this.record({
      phase: 'disk', seconds, sent: 1, perSecond: expected / seconds, detail: { files: expected, healthyAgainSeconds: recovered },
      note: `disk-missing event to the complete damaged list: ${seconds.toFixed(2)} s for ${expected} files; its server resynced by ${kind} meanwhile; healthy again ${recovered.toFixed(2)} s after the disk returned`,
      checks: [
        check('files shown damaged', expected, count(s, 'degraded') + count(s, 'critical')), check('files healthy meanwhile', this.pop.files - expected, count(s, 'healthy')),
        check('files shown damaged after its server\'s resync', expected, count(during, 'degraded') + count(during, 'critical')), check('its server back by digest resync', 1, kind === 'digest' ? 1 : 0),
      ],
    }, cpu0);
  }

  private async server(): Promise<void> {
    const cpu0 = this.coordinator.cpuSeconds();
    const victim = this.agents[1] as SimAgent;
    let expected = this.pop.filesOn(1);
    this.o.onProgress?.(`server: ${victim.serverId} stops talking (archives of ${expected} files; down after ${this.o.downAfter})`);
    const t0 = Date.now();
    victim.disconnect();
    // one archive on a down server: the file is degraded (readable, one loss less to spare)
    let s = await this.until('server', `${expected} files shown degraded`, (x) => count(x, 'healthy') === this.pop.files - expected);
    const seconds = (Date.now() - t0) / 1000;
    const degraded = count(s, 'degraded');
    const degradedExpected = expected;
    // Files created and deleted while it is away: a new file misses its archive there; a deleted
    // one leaves its archive there, which a tombstone must explain (never a lost file).
    let churned = 0;
    if (this.o.churnPerSecond > 0 && this.o.churnSeconds > 0) {
      const perTick = Math.max(1, Math.round(this.o.churnPerSecond / 10));
      const stop = Date.now() + Math.min(this.o.churnSeconds, 3) * 1000;
      this.o.onProgress?.(`server: ${perTick * 10} files created and as many deleted per second while ${victim.serverId} is away`);
      while (Date.now() < stop) {
        this.emitChurn(perTick);
        churned += perTick;
        await sleep(100);
      }
      expected = this.pop.filesOn(1);
      s = await this.until('server', 'agreement on the files while the server is away', (x) => total(x) === this.pop.files && count(x, 'healthy') === this.pop.files - expected);
    }
    const back = Date.now();
    const kind = await this.connect(victim);
    await this.until('server', 'healthy files after the server returned', this.allHealthy);
    this.record({
      phase: 'server', seconds, sent: 0, perSecond: 0, detail: { files: expected, churnedWhileAway: churned, healthyAgainSeconds: (Date.now() - back) / 1000 },
      note: `silence to the complete list of files it degrades: ${seconds.toFixed(2)} s (--down-after ${this.o.downAfter})${churned ? `; ${churned} files created and ${churned} deleted while it was away` : ''}; back by ${kind}, healthy again after ${((Date.now() - back) / 1000).toFixed(2)} s`,
      checks: [check('files shown degraded', degradedExpected, degraded), check('files not healthy while it was away', expected, this.pop.files - count(s, 'healthy')), check('returns by journal replay', 1, kind === 'replay' ? 1 : 0)],
    }, cpu0);
  }

  private async restart(): Promise<void> {
    this.o.onProgress?.('restart: the coordinator is killed (-9) with changes in flight, then started again');
    // changes the coordinator may or may not have stored when it dies
    this.emitChurn(Math.max(1, Math.round(this.pop.files / 1000)));
    await this.coordinator.kill('SIGKILL');
    for (const a of this.agents) a.disconnect();
    this.emitChurn(Math.max(1, Math.round(this.pop.files / 1000))); // and some while it is down
    const t0 = Date.now();
    await this.coordinator.start();
    const cpu0 = this.coordinator.cpuSeconds();
    const kinds = await this.connectAll();
    const s = await this.until('restart', 'healthy files and safe mode left', this.allHealthy);
    const seconds = (Date.now() - t0) / 1000;
    this.record({
      phase: 'restart', seconds, sent: 0, perSecond: 0, detail: {},
      note: `coordinator start to every file healthy and safe mode left: ${seconds.toFixed(2)} s (includes the 2 s settle)`,
      checks: [check('agents back by journal replay', this.agents.length, kinds.filter((k) => k === 'replay').length), check('full inventories after the restart', 0, s.servers.reduce((n, x) => n + x.fullInventories, 0)), check('files healthy', this.pop.files, count(s, 'healthy'))],
    }, cpu0);
  }

  private async resync(): Promise<void> {
    const cpu0 = this.coordinator.cpuSeconds();
    const changed = Math.max(1, Math.round(this.pop.files / 1000));
    this.o.onProgress?.(`resync: every agent restarts without its journal while ${changed} files were created and ${changed} deleted`);
    for (const a of this.agents) a.restart(true);
    this.pop.churn(changed, Date.now()); // unseen by the coordinator: only the agents' disks know
    const sentBefore = this.sum((a) => a.stats.digestRecordsSent);
    const t0 = Date.now();
    const kinds = await this.connectAll();
    const s = await this.until('resync', 'agreement after the resync', this.allHealthy);
    const seconds = (Date.now() - t0) / 1000;
    const sent = this.sum((a) => a.stats.digestRecordsSent) - sentBefore;
    const full = this.results.find((r) => r.phase === 'inventory');
    this.record({
      phase: 'resync', seconds, sent, perSecond: sent / seconds, detail: { changedFiles: changed, ...(full ? { ratioToInventory: seconds / full.seconds } : {}) },
      note: `${sent} of ${this.pop.files * this.pop.width} records sent again; ${full ? `${(seconds / full.seconds).toFixed(2)}× the first full inventory's time` : ''}`,
      checks: [check('agents back by digest resync', this.agents.length, kinds.filter((k) => k === 'digest').length), check('files healthy', this.pop.files, count(s, 'healthy')), check('files the coordinator knows', this.pop.files, total(s))],
    }, cpu0);
  }
}
