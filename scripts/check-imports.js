#!/usr/bin/env node
// Import rules the compiler does not check: no import cycles anywhere; shared/ imports none of
// agent/, coordinator/, cli/; agent/ and coordinator/ never import each other; production code
// never imports test/ or bench/. Exits 1 naming every violation.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const roots = ['shared', 'agent', 'coordinator', 'cli', 'test', 'bench', 'proto'];
const files = [];
const walk = (d) => {
  if (!existsSync(d)) return;
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (e === 'node_modules' || e === 'dist') continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
};
roots.forEach((r) => walk(join(root, r)));

const importRe = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const graph = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = [];
  for (const m of src.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (!spec || !spec.startsWith('.')) continue;
    const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
    // type-only imports still count: a cycle of types is a design smell too
    deps.push(target);
  }
  graph.set(f, deps);
}

const problems = [];
const top = (f) => relative(root, f).split('/')[0];
const forbidden = {
  shared: ['agent', 'coordinator', 'cli', 'test', 'bench'],
  agent: ['coordinator', 'cli', 'test', 'bench'],
  coordinator: ['agent', 'cli', 'test', 'bench'],
  cli: ['test', 'bench'],
  proto: ['agent', 'coordinator', 'cli', 'test', 'bench'],
};
for (const [f, deps] of graph) {
  for (const d of deps) {
    if ((forbidden[top(f)] ?? []).includes(top(d))) problems.push(`${relative(root, f)} imports ${relative(root, d)} (${top(f)}/ must not import ${top(d)}/)`);
  }
}

// Cycle detection: iterative DFS with colours.
const colour = new Map();
const stack = [];
const visit = (start) => {
  const work = [[start, 0]];
  colour.set(start, 1);
  stack.push(start);
  while (work.length > 0) {
    const top2 = work[work.length - 1];
    const [node, i] = top2;
    const deps = graph.get(node) ?? [];
    if (i < deps.length) {
      top2[1]++;
      const next = deps[i];
      if (!graph.has(next)) continue;
      const c = colour.get(next) ?? 0;
      if (c === 1) {
        const cycle = stack.slice(stack.indexOf(next)).concat(next).map((p) => relative(root, p));
        problems.push(`import cycle: ${cycle.join(' -> ')}`);
      } else if (c === 0) {
        colour.set(next, 1);
        stack.push(next);
        work.push([next, 0]);
      }
    } else {
      colour.set(node, 2);
      stack.pop();
      work.pop();
    }
  }
};
for (const f of graph.keys()) if (!colour.get(f)) visit(f);

if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`check-imports: ${p}\n`);
  process.exit(1);
}
process.stdout.write(`check-imports: ${files.length} files, no cycles, layering ok\n`);
