// Builds the ISA-L addon (native/ -> native/build/Release/ecguard_native.node) with the
// node-gyp from node_modules. Never lets node-gyp download Node headers: there is no network
// for that, so it is pointed at headers already on the machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const nodeGyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

if (!existsSync('/usr/include/isa-l.h')) {
  fail('ISA-L headers not found (/usr/include/isa-l.h). Install them with `apt-get install libisal-dev`, then rerun `npm run build:native`.');
}
if (!existsSync(nodeGyp)) {
  fail(`node-gyp not found at ${nodeGyp}; run \`npm install\` first.`);
}

// Headers of the running Node: the distro's (/usr) or the ones next to this node binary.
const candidates = ['/usr', path.resolve(path.dirname(process.execPath), '..')];
const nodedir = candidates.find((dir) => existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
if (nodedir === undefined) {
  fail('Node headers (include/node/node_api.h) not found under /usr or the node install prefix; install the `nodejs` dev headers (Debian: `apt-get install libnode-dev`).');
}

const args = [nodeGyp, 'rebuild', `--nodedir=${nodedir}`, '--jobs=max'];
console.error(`build-native: node ${args.map((a) => path.relative(root, a) || a).join(' ')} (in native/)`);
const result = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: 'inherit' });
if (result.error) fail(`could not run node-gyp: ${result.error.message}`);
if (result.status !== 0) fail(`node-gyp exited with status ${result.status}; see the compiler output above.`);
console.error('build-native: built native/build/Release/ecguard_native.node');
