// The EC profile from the XrdEc client plug-in config: the shared example, and every kind of
// bad file refused with file, line and key.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadEcPluginConfig, loadEcProfile, parseEcPluginConfig } from '../../../agent/config/ec-profile-config.js';
import { EcguardError } from '../../../shared/errors.js';
import { sharedConfigs } from './config-paths.js';

function invalid(text: string, ...expected: RegExp[]): void {
  assert.throws(
    () => parseEcPluginConfig(text, 'xrdec.conf'),
    (e: unknown) => {
      assert.ok(e instanceof EcguardError, String(e));
      assert.equal(e.code, 'CONFIG_INVALID');
      for (const re of expected) assert.match(e.message, re);
      return true;
    },
  );
}

describe('XrdEc plug-in config', () => {
  it('reads the shared example: 8+2, 1 MiB chunks, and the plug-in manager keys', () => {
    const file = join(sharedConfigs, 'xrdec-client-plugin.conf');
    const c = loadEcPluginConfig(file);
    assert.deepEqual(c.profile, { nbData: 8, nbParity: 2, chunkSize: 1048576 });
    assert.equal(c.url, 'root://*');
    assert.equal(c.lib, 'XrdEcDefault');
    assert.equal(c.enable, true);
    assert.deepEqual(c.entries.nbprt, { value: '2', line: 5 });
    assert.deepEqual(loadEcProfile(file), c.profile);
  });

  it('tolerates comments, blank lines, spacing and CRLF; other keys are kept', () => {
    const c = parseEcPluginConfig('# XrdEc\r\n\r\n  nbdta=4\r\nnbprt   =   2\r\nchsz = 65536\r\nnomtfile = true\r\n', 'x.conf');
    assert.deepEqual(c.profile, { nbData: 4, nbParity: 2, chunkSize: 65536 });
    assert.equal(c.enable, undefined);
    assert.deepEqual(c.entries.nomtfile, { value: 'true', line: 6 });
  });

  it('missing keys are named, all at once', () => {
    invalid('nbdta = 8\n', /xrdec\.conf: nbprt: missing/, /xrdec\.conf: chsz: missing/);
  });

  it('bad values are named with file, line and key', () => {
    invalid('nbdta = 8\nnbprt = two\nchsz = 1M\n', /xrdec\.conf:2: nbprt: expected a positive integer, got "two"/, /xrdec\.conf:3: chsz: expected a positive integer, got "1M"/);
    invalid('nbdta = 0\nnbprt = 2\nchsz = 4096\n', /xrdec\.conf:1: nbdta: expected a positive integer, got "0"/);
    invalid('nbdta = -1\nnbprt = 2\nchsz = 4096\n', /xrdec\.conf:1: nbdta/);
    invalid('nbdta = 250\nnbprt = 10\nchsz = 4096\n', /xrdec\.conf:2: nbdta \+ nbprt: must be at most 255, got 260/);
    invalid('nbdta = 8\nnbprt = 2\nchsz = 2147483648\n', /xrdec\.conf:3: chsz: must be at most/);
    invalid('nbdta = 8\nnbprt = 2\nchsz = 4096\nenable = yes\n', /xrdec\.conf:4: enable: expected true or false/);
  });

  it('lines that are not key = value, and keys given twice, are refused', () => {
    invalid('nbdta 8\nnbprt = 2\nchsz = 4096\n', /xrdec\.conf:1: expected 'key = value', got "nbdta 8"/);
    invalid('nbdta = 8\nnbprt = 2\nchsz = 4096\nnbdta = 10\n', /xrdec\.conf:4: nbdta: given again \(first on line 1\)/);
  });

  it('an unreadable file is CONFIG_UNREADABLE naming it', () => {
    const missing = join(sharedConfigs, 'no-such.conf');
    assert.throws(() => loadEcPluginConfig(missing), (e: unknown) => e instanceof EcguardError && e.code === 'CONFIG_UNREADABLE' && e.message.includes(missing));
  });
});
