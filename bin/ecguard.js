#!/usr/bin/env -S node --initial-old-space-size=128
// The flag is shared/daemon-node-flags.ts's (why it is there; a test keeps the two equal).
// Thin launcher: the CLI is compiled TypeScript in dist/ (run `npm run build` first).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('ecguard: not built yet (dist/cli/main.js missing). Run `npm run build` in the ecguard checkout.\n');
  process.exit(2);
}
await import(pathToFileURL(main).href);
