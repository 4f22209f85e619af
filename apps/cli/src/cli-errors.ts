// The CLI's conventions for failures: usage errors (exit 2, a short usage line) and file errors that name the path
// and what was expected. Kept free of heavy imports: main.ts loads it for every command, `--help` included.
import * as fs from 'node:fs';
import type { Command } from 'commander';

/** Exit code of a usage error (unknown option or command, missing or invalid argument), as POSIX tools use it. */
export const USAGE_EXIT = 2;

/** A mistake in the command line; `command` is the command whose usage to print (default: the one that ran). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, readonly command?: Command) {
    super(message);
  }
}

/** `strata experiment run`: the command's full name. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * `usage: strata experiment run <manifest.yaml> [options]`: arguments first, as a user types them, then the required
 * options (`--strategy <name>`).
 */
export function usageLine(cmd: Command): string {
  const args = cmd.registeredArguments.map((a) => {
    const name = `${a.name()}${a.variadic ? '...' : ''}`;
    return a.required ? `<${name}>` : `[${name}]`;
  });
  if (cmd.commands.length > 0 && args.length === 0) args.push('<command>');
  const required = cmd.options.filter((o) => o.mandatory).map((o) => `${o.long ?? o.short}${/[<[].*$/.exec(o.flags)?.[0].replace(/^/, ' ') ?? ''}`);
  return `usage: ${[commandPath(cmd), ...args, ...required, '[options]'].join(' ')}`;
}

/** The lines a usage error prints after its message. */
export function usageHint(cmd: Command): string[] {
  const lines = [usageLine(cmd)];
  const subcommands = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
  if (subcommands.length > 0) lines.push(`commands: ${subcommands.join(', ')}`);
  lines.push(`try '${commandPath(cmd)} --help'`);
  return lines;
}

/**
 * Commander's parse errors as one short message: no `error: ` prefix (the CLI prints `strata: `), and an invalid
 * option value named once (commander prefixes the parser's own message, which already names flag and value).
 */
export function usageMessage(message: string, code?: string): string {
  const text = message.replace(/^error: /, '');
  if (code !== 'commander.invalidArgument') return text;
  const option = /^option '([^']+)' argument '([\s\S]*?)' is invalid\. ([\s\S]*)$/.exec(text);
  if (option) {
    const [, flags, value, reason] = option;
    const flag = flags.split(/[ ,]/).find((f) => f.startsWith('--')) ?? flags;
    if (reason.includes(flag)) return reason;
    return reason.includes(`'${value}'`) ? `${flag}: ${reason}` : `${flag} '${value}': ${reason}`;
  }
  const argument = /^command-argument value '([\s\S]*?)' is invalid for argument '([^']+)'\. ([\s\S]*)$/.exec(text);
  if (argument) {
    const [, value, name, reason] = argument;
    return reason.includes(value) ? `<${name}>: ${reason}` : `<${name}> '${value}': ${reason}`;
  }
  return text;
}

/** What went wrong opening `file`, in words (Node's error codes alone, like a bare ENOENT, say little). */
function reason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return err.message;
  }
}

/**
 * `file` if it is a readable regular file; otherwise an error naming the path, what is wrong and what was expected
 * (`what`, e.g. "an experiment manifest (.yaml)").
 */
export function requireFile(file: string, what: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new Error(`${file}: ${reason(err as NodeJS.ErrnoException)}; expected ${what}`);
  }
  if (stat.isDirectory()) throw new Error(`${file}: is a directory; expected ${what}`);
  if (!stat.isFile()) throw new Error(`${file}: not a regular file; expected ${what}`);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new Error(`${file}: cannot be read (${reason(err as NodeJS.ErrnoException)}); expected ${what}`);
  }
  return file;
}

/** `dir` if it is a directory; otherwise an error naming the path and what was expected. */
export function requireDir(dir: string, what: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    throw new Error(`${dir}: ${reason(err as NodeJS.ErrnoException)}; expected ${what}`);
  }
  if (!stat.isDirectory()) throw new Error(`${dir}: is a file; expected ${what}`);
  return dir;
}

/**
 * The message to print for an error that reached the top: a file-system error from deep inside a library (a bare
 * `ENOENT: no such file or directory, open 'x'`) is rewritten to name the path first.
 */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodeJS.ErrnoException;
  if (e.code && e.path && e.syscall && e.message.startsWith(`${e.code}:`)) return `${e.path}: ${reason(e)} (${e.syscall})`;
  return e.message;
}
