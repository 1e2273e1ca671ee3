// Picks the codec: the ISA-L addon when it loads, else the pure TypeScript one (with a one-time
// warning, since it is ~100x slower). ECGUARD_CODEC=typescript forces the TypeScript codec;
// ECGUARD_CODEC=native (or prefer: 'native') makes a missing addon an error instead.
import { EcguardError, UsageError, errorText } from '../errors.js';
import { createRequire } from 'node:module';
import type { ErasureCodec } from './codec.js';
import { NativeCodec, loadNativeAddon, nativeAddonPath } from './native-codec.js';
import { TsCodec } from './ts-codec.js';

export type { ErasureCodec, IndexedChunk, CrcKind } from './codec.js';
export { CRC_CHECK_VALUES, crcOf } from './codec.js';
export { NativeCodec } from './native-codec.js';
export { TsCodec } from './ts-codec.js';

export interface GetCodecOptions {
  /** 'native': the addon or an EcguardError('NATIVE_UNAVAILABLE'); 'typescript': always TS. */
  prefer?: 'native' | 'typescript';
}

const FIX = 'apt-get install libisal-dev && npm run build:native';

let nativeCodec: NativeCodec | undefined;
let nativeError: Error | undefined;
let tried = false;
let tsCodec: TsCodec | undefined;
let warned = false;

function tryNative(): NativeCodec | undefined {
  if (!tried) {
    tried = true;
    try {
      nativeCodec = new NativeCodec(loadNativeAddon());
    } catch (err) {
      nativeError = err instanceof Error ? err : new Error(errorText(err));
    }
  }
  return nativeCodec;
}

function typescriptCodec(): TsCodec {
  tsCodec ??= new TsCodec();
  return tsCodec;
}

function envPreference(): GetCodecOptions['prefer'] {
  const v = process.env.ECGUARD_CODEC;
  if (v === undefined || v === '' || v === 'auto') return undefined;
  if (v === 'native' || v === 'typescript') return v;
  throw new UsageError(`ECGUARD_CODEC must be 'native', 'typescript' or 'auto', got '${v}'`);
}

/** The codec to use; the native one is loaded once and shared. */
export function getCodec(opts: GetCodecOptions = {}): ErasureCodec {
  const prefer = opts.prefer ?? envPreference();
  if (prefer === 'typescript') return typescriptCodec();
  const native = tryNative();
  if (native !== undefined) return native;
  const cause = errorText(nativeError);
  if (prefer === 'native') {
    throw new EcguardError(
      'NATIVE_UNAVAILABLE',
      `the ISA-L codec addon (${nativeAddonPath()}) cannot be loaded: ${cause}. Fix: ${FIX}`,
      { cause: nativeError },
    );
  }
  if (!warned) {
    warned = true;
    // Loaded only here: winston is a third of a scan worker's start-up (require of ESM: sync).
    const { getLogger } = createRequire(import.meta.url)('../logger.js') as typeof import('../logger.js');
    getLogger('codec').warn(
      `ISA-L codec addon unavailable (${cause}); using the pure TypeScript codec, ~100x slower than ISA-L ` +
        `(about 0.2-0.3 GB/s instead of 15-25 GB/s). Fix: ${FIX}`,
    );
  }
  return typescriptCodec();
}

export function nativeCodecAvailable(): boolean {
  return tryNative() !== undefined;
}

/** Why the addon did not load (undefined when it did, or was never tried and loads now). */
export function loadNativeError(): Error | undefined {
  tryNative();
  return nativeError;
}

/** For tests: forget the load attempt and the one-time warning. */
export function resetCodecLoader(): void {
  nativeCodec = undefined;
  nativeError = undefined;
  tried = false;
  warned = false;
}
