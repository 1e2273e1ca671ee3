// getCodec(): native when the addon loads, TypeScript when forced or when it cannot load, and
// a NATIVE_UNAVAILABLE error naming the fix when native is demanded but missing.
import assert from 'node:assert/strict';
import { EcguardError, UsageError } from '../../shared/errors.js';
import { getCodec, loadNativeError, nativeCodecAvailable, resetCodecLoader } from '../../shared/codec/index.js';
import { setLogLevel } from '../../shared/logger.js';
import { nativeCodec } from './helpers.js';

const SAVED = { codec: process.env.ECGUARD_CODEC, addon: process.env.ECGUARD_NATIVE_ADDON };

function restore(name: 'ECGUARD_CODEC' | 'ECGUARD_NATIVE_ADDON', value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe('getCodec', () => {
  beforeEach(() => {
    delete process.env.ECGUARD_CODEC;
    delete process.env.ECGUARD_NATIVE_ADDON;
    resetCodecLoader();
  });
  afterEach(() => {
    restore('ECGUARD_CODEC', SAVED.codec);
    restore('ECGUARD_NATIVE_ADDON', SAVED.addon);
    setLogLevel(process.env.ECGUARD_LOG_LEVEL ?? 'info');
    resetCodecLoader();
  });

  it('returns the shared native codec when the addon loads', () => {
    nativeCodec(); // fails loudly if the addon is not built
    assert.equal(nativeCodecAvailable(), true);
    assert.equal(loadNativeError(), undefined);
    const codec = getCodec();
    assert.equal(codec.name, 'native');
    assert.equal(getCodec(), codec);
    assert.equal(getCodec({ prefer: 'native' }), codec);
  });

  it('ECGUARD_CODEC=typescript forces the TypeScript codec', () => {
    process.env.ECGUARD_CODEC = 'typescript';
    assert.equal(getCodec().name, 'typescript');
    assert.equal(getCodec({ prefer: 'typescript' }).name, 'typescript');
  });

  it('rejects an unknown ECGUARD_CODEC value', () => {
    process.env.ECGUARD_CODEC = 'fast';
    assert.throws(() => getCodec(), (err: unknown) => err instanceof UsageError && /ECGUARD_CODEC must be/.test(err.message));
  });

  it('falls back to TypeScript when the addon cannot load, and refuses when native is demanded', () => {
    process.env.ECGUARD_NATIVE_ADDON = '/nonexistent/ecguard_native.node';
    setLogLevel('error'); // the one-time fallback warning is expected here
    assert.equal(nativeCodecAvailable(), false);
    assert.match(String(loadNativeError()?.message), /Cannot find module/);
    assert.equal(getCodec().name, 'typescript');
    assert.throws(
      () => getCodec({ prefer: 'native' }),
      (err: unknown) =>
        err instanceof EcguardError &&
        err.code === 'NATIVE_UNAVAILABLE' &&
        err.message.includes('Cannot find module') &&
        err.message.includes('apt-get install libisal-dev && npm run build:native'),
    );
  });
});
