// Evaluates the words after `if` the way XRootD's XrdOucUtils::doIf reads them:
//   if [HOST…] [defined ?VAR… [&& …]] [exec PGM… [&& named NAME…]] [named NAME…]
// HOST matches exactly or with one `*`; `?VAR` is a `set` variable, `?~VAR` an environment
// variable; every present part must hold. Anything that needs knowledge ecguard does not have
// (DNS for `host+`, xrootd's environment) yields 'unknown' with the reason, never a guess.
import { and3, or3, type Tri } from './xrootd-types.js';

export interface IfContext {
  readonly host: string;
  readonly program: string;
  /** Instance name as XRootD sees it: the -n name, or `anon` when there is none. */
  readonly instanceName: string;
  readonly isSetVariable: (name: string) => boolean;
  readonly envState: (name: string) => Tri;
}

export interface IfOutcome {
  value: Tri;
  /** Why the value is 'unknown' (empty otherwise, unless a syntax error made it so). */
  readonly unknown: string[];
  /** Syntax errors: XRootD refuses the config. */
  readonly errors: string[];
  readonly warnings: string[];
  /** A host pattern was compared with the host name. */
  usedHost: boolean;
}

const KEYWORDS = new Set(['defined', 'exec', 'named']);

export function evaluateIf(words: readonly string[], ctx: IfContext): IfOutcome {
  const out: IfOutcome = { value: true, unknown: [], errors: [], warnings: [], usedHost: false };
  const fail = (msg: string): IfOutcome => {
    out.errors.push(msg);
    out.value = 'unknown';
    return out;
  };
  const at = (k: number): string | undefined => words[k];
  let i = 0;
  if (words.length === 0) return fail("nothing after 'if' (XRootD: host name missing)");

  if (!KEYWORDS.has(words[0] as string)) {
    let hosts: Tri = false;
    for (; i < words.length && !KEYWORDS.has(words[i] as string); i++) hosts = or3(hosts, matchHost(ctx.host, words[i] as string, out));
    out.usedHost = true;
    out.value = hosts;
    if (hosts === false || i >= words.length) return out;
  }

  while (at(i) === 'defined') {
    i++;
    if (!at(i)?.startsWith('?')) return fail("'?var' missing after 'defined'");
    let def: Tri = false;
    for (; i < words.length && (words[i] as string).startsWith('?'); i++) def = or3(def, definedState(words[i] as string, ctx, out));
    out.value = and3(out.value, def);
    if (def === false || i >= words.length) return out;
    if (at(i) !== '&&') return fail(`'${at(i)}' is invalid in a defined test (expected '&&')`);
    i++;
    const kw = at(i);
    if (kw === undefined) return fail("keyword missing after '&&'");
    if (!KEYWORDS.has(kw)) return fail(`'${kw}' is invalid after '&&'`);
  }

  if (at(i) === 'exec') {
    i++;
    if (at(i) === undefined || at(i) === '&&') return fail("program name missing after 'if exec'");
    const programs: string[] = [];
    for (; i < words.length && words[i] !== '&&'; i++) programs.push(words[i] as string);
    if (programs.includes('named')) {
      out.warnings.push(
        `'if exec ${programs.join(' ')}': XRootD reads every word up to '&&' as a program name, so 'named' here is not an instance test (write 'exec PGM && named NAME')`,
      );
    }
    const match = programs.includes(ctx.program);
    out.value = and3(out.value, match);
    if (!match || i >= words.length) return out;
    i++;
    const kw = at(i);
    if (kw === undefined) return fail("keyword missing after '&&'");
    if (kw !== 'named') return fail(`'${kw}' is invalid after 'exec … &&' (only 'named' may follow)`);
  }

  // Here at(i) is 'named' (from the start, after 'defined … &&', or after 'exec … &&').
  i++;
  if (i >= words.length) return fail("instance name missing after 'if named'");
  out.value = and3(out.value, words.slice(i).includes(ctx.instanceName));
  return out;
}

/** XrdNetUtils::Match: exact, or one `*` (prefix/suffix; a second `*` is literal), or `name+` (DNS). */
function matchHost(host: string, pattern: string, out: IfOutcome): Tri {
  if (pattern === host) return true;
  const star = pattern.indexOf('*');
  if (star >= 0) {
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (suffix.includes('*')) out.warnings.push(`host pattern '${pattern}' has more than one '*': XRootD treats all but the first literally`);
    return host.length >= prefix.length + suffix.length && host.startsWith(prefix) && host.endsWith(suffix);
  }
  if (pattern.length > 1 && pattern.endsWith('+')) {
    out.unknown.push(`host pattern '${pattern}' needs a DNS lookup of '${pattern.slice(0, -1)}', which ecguard does not do`);
    return 'unknown';
  }
  return false;
}

function definedState(word: string, ctx: IfContext, out: IfOutcome): Tri {
  if (word.startsWith('?~')) {
    const name = word.slice(2);
    const s = ctx.envState(name);
    if (s === 'unknown') out.unknown.push(`'${word}' tests xrootd's environment variable ${name}, which ecguard cannot see`);
    return s;
  }
  return ctx.isSetVariable(word.slice(1));
}
