// scanBuckets' lifetime edges, each in a process of its own (the bugs these guard against
// aborted the whole process): onBucket throwing a primitive, a Worker terminated while its walk
// is blocked on a full queue, and process.exit inside a Worker mid-walk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ADDON = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native', 'build', 'Release', 'ecguard_native.node');

const PRELUDE = `
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
const addon = createRequire(import.meta.url)(process.env.ADDON);
const dirs = JSON.parse(process.env.DIRS);
const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
`;

const SCRIPTS: Record<string, string> = {
  // A primitive thrown from onBucket must reject the promise with that value.
  primitive: `
const p = addon.scanBuckets(dirs, 16384, 8192, [], undefined, 2, () => { throw process.env.WHAT === 'str' ? 'str' : 42; });
p.then(() => console.log('resolved'), (e) => console.log('rejected ' + JSON.stringify(e)));
`,
  // terminate() while the walkers wait for room in the queue.
  terminate: `
if (isMainThread) {
  const w = new Worker(new URL(import.meta.url), { env: process.env });
  w.on('message', async () => {
    const t = setTimeout(() => { console.log('hang'); process.exit(3); }, 10000);
    await w.terminate();
    clearTimeout(t);
    console.log('terminated');
  });
} else {
  let n = 0;
  addon.scanBuckets(dirs, 16384, 8192, [], undefined, 4, () => {
    if (n++ === 0) { spin(300); parentPort.postMessage('first'); spin(200); }
  });
}
`,
  // process.exit in a Worker while the walk runs.
  exit: `
if (isMainThread) {
  const w = new Worker(new URL(import.meta.url), { env: process.env });
  const t = setTimeout(() => { console.log('hang'); process.exit(3); }, 10000);
  w.on('exit', (c) => { clearTimeout(t); console.log('worker exited ' + c); });
} else {
  addon.scanBuckets(dirs, 16384, 8192, [], undefined, 2, () => {});
  setImmediate(() => { spin(500); process.exit(0); });
}
`,
};

describe('scanBuckets: teardown and odd throws do not abort the process', function () {
  this.timeout(60_000);
  let root: string;
  let dirs: string[];
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'ecguard-sbtear-'));
    dirs = Array.from({ length: 200 }, (_, i) => {
      const d = join(root, `b${i}`);
      mkdirSync(d);
      for (let f = 0; f < 5; f++) writeFileSync(join(d, `f${f}%`), Buffer.alloc(64, f));
      return d;
    });
    for (const [name, body] of Object.entries(SCRIPTS)) writeFileSync(join(root, `${name}.mjs`), PRELUDE + body);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const run = (name: string, env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(root, `${name}.mjs`)], { env: { ...process.env, ADDON, DIRS: JSON.stringify(dirs), ...env }, encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, signal: r.signal, out: r.stdout.trim(), err: r.stderr };
  };

  for (const what of ['num', 'str']) {
    it(`onBucket throwing a primitive (${what}) rejects with it`, () => {
      const r = run('primitive', { WHAT: what });
      assert.equal(r.signal, null, r.err);
      assert.equal(r.status, 0, r.err);
      assert.equal(r.out, what === 'str' ? 'rejected "str"' : 'rejected 42');
    });
  }

  it('a Worker terminated while its walkers wait for queue room ends cleanly', () => {
    const r = run('terminate');
    assert.equal(r.signal, null, r.err);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, 'terminated');
  });

  it('process.exit in a Worker mid-walk ends the Worker, not the process', () => {
    const r = run('exit');
    assert.equal(r.signal, null, r.err);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, 'worker exited 0');
  });
});
