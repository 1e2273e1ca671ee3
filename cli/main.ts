// The `ecguard` command line: one program for operators, agents and the coordinator.
import { Command, CommanderError } from 'commander';
import { EcguardError, UsageError, errorText } from '../shared/errors.js';
import { registerAdmin } from './commands/admin.js';
import { registerDebris } from './commands/debris.js';
import { registerRepair } from './commands/repair.js';
import { registerDrain } from './commands/drain.js';
import { registerDaemons } from './commands/daemons.js';
import { registerDecode } from './commands/decode.js';
import { registerDemo } from './commands/demo.js';
import { registerDisk } from './commands/disk.js';
import { registerEncode } from './commands/encode.js';
import { registerEvents } from './commands/events.js';
import { registerInspect } from './commands/inspect.js';
import { registerNamespace } from './commands/namespace.js';
import { registerScan } from './commands/scan.js';
import { registerScrub } from './commands/scrub.js';
import { registerSimulate } from './commands/simulate.js';
import { EXIT } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('ecguard')
    .description('keeps XRootD erasure-coded (XrdEc) storage healthy')
    .version('0.1.0')
    .exitOverride()
    .enablePositionalOptions() // needed for the command groups' own --json (requireSubcommand)
    .showHelpAfterError('(run with --help for usage)');
  registerInspect(program);
  registerDecode(program);
  registerEncode(program);
  registerScan(program);
  registerScrub(program);
  registerNamespace(program);
  registerAdmin(program);
  registerDebris(program);
  registerRepair(program);
  registerDrain(program);
  registerDaemons(program);
  registerDisk(program);
  registerEvents(program);
  registerDemo(program);
  registerSimulate(program);
  // `ecguard debris` alone lists (as before it had subcommands): the one group with its own action
  for (const group of program.commands.filter((c) => c.commands.length > 0 && c.name() !== 'debris')) requireSubcommand(group);
  return program;
}

/** A command group (repair, namespace, …) run without a known subcommand: a usage error that
 *  lists the subcommands, as JSON with --json (commander alone called --json an unknown option). */
function requireSubcommand(group: Command): void {
  // positional: a --json after the subcommand is the subcommand's, not the group's
  group.enablePositionalOptions().option('--json', 'machine-readable error').allowExcessArguments().action(() => {
    const names = group.commands.map((c) => c.name()).join(', ');
    const sub = group.args[0];
    throw new UsageError(sub === undefined
      ? `ecguard ${group.name()} needs a subcommand: ${names} (ecguard ${group.name()} SUBCOMMAND --help)`
      : `ecguard ${group.name()} has no subcommand ${JSON.stringify(sub)}; it has ${names}`);
  });
}

// A config or TLS file named on the command line that cannot be read or makes no sense is bad
// input like a bad flag (exit 2, nothing done); these errors keep their own codes.
const INPUT_ERRORS = new Set(['CONFIG_UNREADABLE', 'CONFIG_INVALID', 'TLS_FILES']);

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    const json = argv.includes('--json');
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK;
      // commander already wrote its message to stderr; scripts asked for JSON get it too
      if (json) process.stdout.write(JSON.stringify({ error: { code: 'USAGE', message: err.message.replace(/^error: /, '') } }, null, 2) + '\n');
      return EXIT.USAGE;
    }
    const code = err instanceof UsageError || (err instanceof EcguardError && INPUT_ERRORS.has(err.code)) ? EXIT.USAGE : err instanceof EcguardError ? EXIT.PROBLEMS : EXIT.INTERNAL;
    const errCode = err instanceof EcguardError ? err.code : 'INTERNAL';
    if (json) process.stdout.write(JSON.stringify({ error: { code: errCode, message: errorText(err) } }, null, 2) + '\n');
    process.stderr.write(`ecguard: ${errCode}: ${errorText(err)}\n`);
    if (code === EXIT.INTERNAL && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return code;
  }
}

process.exitCode = await main(process.argv);
