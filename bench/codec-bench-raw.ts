// Builds (gcc -O2 ... -lisal into bench/c/bin/, gitignored) and runs the raw C ISA-L loop.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../shared/codec/package-root.js';

export interface RawResult {
  op: 'encode' | 'decode' | 'crc32c' | 'crc32';
  profile: string;
  erasures: number;
  gbps: number;
}

export interface RawRun {
  isal: string;
  chunkBytes: number;
  crcBytes: number;
  results: RawResult[];
}

function buildRaw(): string {
  const dir = path.join(packageRoot(), 'bench', 'c');
  const source = path.join(dir, 'isal-raw.c');
  const binary = path.join(dir, 'bin', 'isal-raw');
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  if (!existsSync('/usr/include/isa-l.h')) {
    throw new Error('raw ISA-L bench: /usr/include/isa-l.h missing; install it with `apt-get install libisal-dev`');
  }
  mkdirSync(path.dirname(binary), { recursive: true });
  const cc = spawnSync('gcc', ['-O2', '-o', binary, source, '-lisal'], { encoding: 'utf8' });
  if (cc.error) throw new Error(`raw ISA-L bench: cannot run gcc (${cc.error.message}); install it with \`apt-get install gcc\``);
  if (cc.status !== 0) throw new Error(`raw ISA-L bench: gcc failed:\n${cc.stderr}`);
  return binary;
}

/** Runs the C loop; `only` ('op:profile:erasures') limits it to one row. */
export function runRawIsal(chunkBytes: number, crcBytes: number, reps: number, repMs: number, only = ''): RawRun {
  const binary = buildRaw();
  const run = spawnSync(binary, [chunkBytes, crcBytes, reps, repMs, only].map(String), { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`raw ISA-L bench failed (${run.error?.message ?? `status ${run.status}`}): ${run.stderr}`);
  }
  return JSON.parse(run.stdout) as RawRun;
}
