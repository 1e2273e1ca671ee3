// Reads an xrootd config file and the files it `continue`s to, and keeps the directives that
// apply to this host, program and instance: if/else/fi evaluated, set/setenv applied, variables
// substituted. Follows XRootD 5.5.3's XrdOucStream (test/agent/config/xrootd-config-real.test.ts
// checks the parser against the real server); where XRootD would refuse the config, or where
// ecguard cannot know the answer, it says so in a diagnostic instead of guessing.
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { EcguardError, errorText } from '../../shared/errors.js';
import { evaluateIf, type IfContext } from './xrootd-condition.js';
import { continueTargets, parseContinue } from './xrootd-continue.js';
import { logicalLines, substitute, type LogicalLine } from './xrootd-lexer.js';
import { parseSet } from './xrootd-set.js';
import { and3, not3, type Tri, type XrootdDiagnostic, type XrootdDirective, type XrootdEvalOptions } from './xrootd-types.js';

export interface ReadResult {
  readonly directives: XrootdDirective[];
  /** `set` variables at the end of the config. */
  readonly variables: Record<string, string>;
  /** Variables the config `setenv`s. */
  readonly environment: Record<string, string>;
  readonly diagnostics: XrootdDiagnostic[];
  /** Every file read, in order. */
  readonly files: string[];
}

interface Frame {
  readonly line: number;
  /** Whether the current branch applies. */
  current: Tri;
  /** Whether some branch so far applied. */
  taken: Tri;
  sawElse: boolean;
}

const activity = (frames: readonly Frame[]): Tri => frames.reduce<Tri>((a, f) => and3(a, f.current), true);

export function readXrootdConfig(path: string, opts: XrootdEvalOptions): ReadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcguardError('CONFIG_UNREADABLE', `cannot read xrootd config ${path}: ${errorText(err)}`, { cause: err });
  }
  const reader = new ConfigReader(opts);
  reader.readText(path, safeRealpath(path), text);
  return reader.result();
}

class ConfigReader {
  private readonly vars = new Map<string, string>();
  private readonly env = new Map<string, string>();
  private readonly setenvs = new Map<string, string>();
  private readonly envKnown: boolean;
  private readonly directives: XrootdDirective[] = [];
  private readonly diagnostics: XrootdDiagnostic[] = [];
  private readonly files: string[] = [];
  private readonly chain: string[] = [];
  private readonly ctx: IfContext;
  private warnedShortHost = false;

  constructor(private readonly opts: XrootdEvalOptions) {
    const program = opts.program ?? 'xrootd';
    const instanceName = opts.instance ?? 'anon';
    this.envKnown = opts.env !== undefined;
    for (const [k, v] of Object.entries(opts.env ?? {})) this.env.set(k, v);
    // xrootd exports these itself before it reads its config.
    this.env.set('XRDHOST', opts.host).set('XRDNAME', instanceName).set('XRDPROG', program);
    this.env.set('XRDINSTANCE', `${program} ${instanceName}@${opts.host}`);
    this.ctx = {
      host: opts.host,
      program,
      instanceName,
      isSetVariable: (name) => this.vars.has(name),
      envState: (name) => (this.env.has(name) ? true : this.envKnown ? false : 'unknown'),
    };
  }

  result(): ReadResult {
    return {
      directives: this.directives,
      variables: Object.fromEntries(this.vars),
      environment: Object.fromEntries(this.setenvs),
      diagnostics: this.diagnostics,
      files: this.files,
    };
  }

  private diag(severity: 'error' | 'warning', file: string, line: number, message: string): void {
    this.diagnostics.push({ severity, file, line, message });
  }

  readText(file: string, real: string, text: string): void {
    this.files.push(file);
    this.chain.push(real);
    const lines = logicalLines(text);
    const frames: Frame[] = [];
    for (let k = 0; k < lines.length; k++) {
      const ll = lines[k] as LogicalLine;
      for (const b of ll.joinedAcrossBlank) {
        this.diag('warning', file, ll.line, `the line continues ('\\') across blank line ${b}: XRootD joins the next directive's words to it`);
      }
      const first = ll.words[0] as string;
      if (first === 'if') this.doIf(file, ll, frames);
      else if (first === 'else') this.doElse(file, ll, frames);
      else if (first === 'fi') {
        if (frames.pop() === undefined) this.diag('error', file, ll.line, "'fi' without 'if' (XRootD refuses the config)");
      } else if (first === 'continue') {
        const outcome = this.continueLine(file, ll, frames);
        if (outcome === 'stayed') continue;
        const rest = lines.length - k - 1;
        if (rest > 0) {
          const next = lines[k + 1] as LogicalLine;
          const why = outcome === 'switched' ? 'XRootD does not come back to a file it continued from' : "they apply only if the continue's condition is false";
          this.diag('warning', file, next.line, `${rest} line(s) after 'continue' (line ${ll.line}) are not applied: ${why}`);
        }
        break;
      } else if (activity(frames) === true) {
        if (first === 'set' || first === 'setenv') this.doSet(file, ll, first === 'setenv');
        else this.addDirective(file, ll);
      }
    }
    for (const f of frames) this.diag('error', file, f.line, "'if' without 'fi' (XRootD: Missing 'fi' for last 'if')");
    this.chain.pop();
  }

  /** Substitutes every word, reporting problems; words that end up empty are dropped, as XRootD does. */
  private substituted(file: string, line: number, words: readonly string[]): string[] {
    return this.substitutedAt(file, words, words.map(() => line)).words;
  }

  /** The same, each word reported at and kept with its own physical line. */
  private substitutedAt(file: string, words: readonly string[], lines: readonly number[]): { words: string[]; lines: number[] } {
    const out: string[] = [];
    const outLines: number[] = [];
    words.forEach((w, k) => {
      const line = lines[k] as number;
      const s = substitute(w, (name) => this.vars.get(name));
      for (const p of s.problems) this.diag('error', file, line, p);
      if (s.text !== '') {
        out.push(s.text);
        outLines.push(line);
      }
    });
    return { words: out, lines: outLines };
  }

  private condition(file: string, line: number, raw: readonly string[], label: string): Tri {
    const words = this.substituted(file, line, raw);
    const r = evaluateIf(words, this.ctx);
    const text = `'${label} ${words.join(' ')}'`;
    for (const e of r.errors) this.diag('error', file, line, `${text}: ${e} (XRootD refuses the config); the block is not applied`);
    for (const w of r.warnings) this.diag('warning', file, line, w);
    if (r.unknown.length > 0) {
      this.diag('error', file, line, `cannot evaluate ${text}: ${r.unknown.join('; ')}; the directives it guards are not applied (list the disks under 'spaces' in the agent config if they matter)`);
    }
    if (r.usedHost && !this.opts.host.includes('.') && !this.warnedShortHost) {
      this.warnedShortHost = true;
      this.diag('warning', file, line, `host name '${this.opts.host}' has no domain: xrootd matches if-host patterns against its fully qualified name`);
    }
    return r.value;
  }

  private doIf(file: string, ll: LogicalLine, frames: Frame[]): void {
    const open = frames[frames.length - 1];
    if (open !== undefined) {
      this.diag('error', file, ll.line, `nested 'if' (the 'if' at line ${open.line} is still open): XRootD does not nest if/fi and refuses the config; evaluated here as nested`);
    }
    const parent = activity(frames);
    const cond = parent === true ? this.condition(file, ll.line, ll.words.slice(1), 'if') : parent;
    frames.push({ line: ll.line, current: cond, taken: cond, sawElse: false });
  }

  private doElse(file: string, ll: LogicalLine, frames: Frame[]): void {
    const top = frames[frames.length - 1];
    if (top === undefined) return this.diag('error', file, ll.line, "'else' without 'if' (XRootD refuses the config)");
    if (top.sawElse) {
      top.current = false;
      return this.diag('error', file, ll.line, "'else' after a plain 'else' (XRootD refuses the config); not applied");
    }
    if (ll.words.length === 1) {
      top.sawElse = true;
      top.current = not3(top.taken);
      top.taken = true;
      return;
    }
    if (ll.words[1] !== 'if') {
      top.current = top.taken = 'unknown';
      return this.diag('error', file, ll.line, `'else ${ll.words[1]}' is invalid (only 'else' or 'else if …'; XRootD refuses the config); the rest of the block is not applied`);
    }
    if (top.taken === true) {
      top.current = false;
      return;
    }
    const parent = activity(frames.slice(0, -1));
    const cond = parent === true ? this.condition(file, ll.line, ll.words.slice(2), 'else if') : parent;
    if (top.taken === false) {
      top.current = top.taken = cond;
    } else {
      top.current = cond === false ? false : 'unknown';
      top.taken = cond === true ? true : 'unknown';
    }
  }

  private doSet(file: string, ll: LogicalLine, isEnv: boolean): void {
    // XRootD's set reads words with GetToken, which stops at the end of the physical line.
    if (ll.words.length > ll.firstLineWords) {
      this.diag('warning', file, ll.line, `${ll.words[0]}: XRootD does not read continued lines of a set; '${ll.words.slice(ll.firstLineWords).join(' ')}' is ignored`);
    }
    const r = parseSet(ll.words.slice(1, ll.firstLineWords), isEnv, { vars: this.vars, env: this.env, envKnown: this.envKnown });
    for (const p of r.problems) this.diag(p.severity, file, ll.line, p.message);
    if (r.assign === undefined) return;
    if (isEnv) {
      this.env.set(r.assign.name, r.assign.value);
      this.setenvs.set(r.assign.name, r.assign.value);
    } else this.vars.set(r.assign.name, r.assign.value);
  }

  private addDirective(file: string, ll: LogicalLine): void {
    const { words, lines } = this.substitutedAt(file, ll.words, ll.wordLines);
    const first = words[0];
    if (first === undefined) return;
    const args = words.slice(1);
    const argLines = lines.slice(1);
    const hash = args.findIndex((a) => a.startsWith('#'));
    if (hash >= 0) {
      this.diag('warning', file, argLines[hash] ?? ll.line, `'#' after a directive is not a comment in XRootD: '${args.slice(hash).join(' ')}' is passed to ${first}`);
    }
    const dot = first.indexOf('.');
    if (dot <= 0) {
      this.diag('warning', file, ll.line, `'${first}' is not a component.directive word; XRootD's components ignore this line`);
      return;
    }
    this.directives.push({ component: first.slice(0, dot), directive: first.slice(dot + 1), args, argLines, file, line: ll.line });
  }

  /** Handles a continue line: whether reading switched to other files, stayed here, or cannot be known. */
  private continueLine(file: string, ll: LogicalLine, frames: readonly Frame[]): 'switched' | 'stayed' | 'unknown' {
    // In a branch that does not apply xrootd passes over a continue without complaint.
    if (activity(frames) !== true) return 'stayed';
    const err = (m: string): 'stayed' => {
      this.diag('error', file, ll.line, `${m}; not followed`);
      return 'stayed';
    };
    if (frames.length > 0) return err("'continue' inside if/fi: XRootD refuses it ('continue' invalid within 'if-fi')");
    if (this.chain.length > 1) return err("'continue' in a file that was itself continued to: XRootD refuses it ('continue' in a continuation is not allowed)");
    const c = parseContinue(this.substituted(file, ll.line, ll.words.slice(1)));
    if (c.path === undefined || c.path === '') return 'stayed';
    if (c.badWord !== undefined) return err(`continue ${c.path}: expected '*SUFFIX' or 'if' after the path, got '${c.badWord}' (XRootD refuses the config)`);
    if (c.condition !== undefined) {
      const cond = this.condition(file, ll.line, c.condition, `continue ${c.path} if`);
      if (cond === false) return 'stayed';
      if (cond === 'unknown') return 'unknown';
    }
    if (!isAbsolute(c.path)) return err(`continue ${c.path}: a relative path is resolved against xrootd's working directory, which ecguard does not know`);
    const t = continueTargets(c.path, c.optional, c.suffixes);
    if (t.kind === 'missing') return 'stayed';
    if (t.kind === 'error') return err(`continue ${c.path}: ${t.message} (XRootD refuses the config)`);
    for (const f of t.files) this.follow(f, file, ll.line);
    return 'switched';
  }

  private follow(path: string, file: string, line: number): void {
    const real = safeRealpath(path);
    if (this.chain.includes(real)) {
      return this.diag('error', file, line, `continue loop: ${path} is already being read (${this.chain.join(' → ')}); not followed`);
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      return this.diag('error', file, line, `continue ${path}: ${errorText(err)} (XRootD refuses the config)`);
    }
    this.readText(path, real, text);
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
