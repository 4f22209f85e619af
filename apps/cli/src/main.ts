// The `strata` command. Only the command that runs is loaded: its module imports the libraries it needs (ONNX
// Runtime, the experiment pipeline, Kafka clients: over a second together), so `strata --help` and a mistyped
// command answer at once. The other top-level commands are registered by name and a one-line summary.
import { Command, Help, Option, type HelpContext } from 'commander';
import { USAGE_EXIT, UsageError, errorMessage, usageHint, usageMessage } from './cli-errors';
import { LOG_FORMATS, useJsonStderr, writeLog } from '@strata/service/src/log-format';

type Register = (program: Command) => void;

interface TopCommand {
  name: string;
  /** One line for `strata --help`; the module's own description is the command's full help. */
  summary: string;
  /** The modules that register it, loaded only when it runs (or its help is asked for). */
  load: () => Register[];
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading is the point */
const onnx = (): Register => (require('./commands/onnx') as typeof import('./commands/onnx')).registerOnnxCommands;
const bench = (): Register => (require('./commands/bench') as typeof import('./commands/bench')).registerBenchCommands;
const data = (): Register => (require('./commands/data') as typeof import('./commands/data')).registerDataCommands;
const metrics = (): Register => (require('./commands/metrics') as typeof import('./commands/metrics')).registerMetricsCommands;
const kd = (): Register => (require('./commands/kd') as typeof import('./commands/kd')).registerKdCommands;
const teacher = (): Register => (require('./commands/teacher') as typeof import('./commands/teacher')).registerTeacherCommands;
const stages = (): Register => (require('./commands/stages') as typeof import('./commands/stages')).registerStageCommands;
const experiment = (): Register => (require('./commands/experiment') as typeof import('./commands/experiment')).registerExperimentCommands;
const status = (): Register => (require('./commands/status') as typeof import('./commands/status')).registerStatusCommand;
const analyze = (): Register => (require('./commands/analyze') as typeof import('./commands/analyze')).registerAnalyzeCommands;
const k8s = (): Register => (require('./commands/k8s') as typeof import('./commands/k8s')).registerK8sCommands;
const exporter = (): Register => (require('./commands/export') as typeof import('./commands/export')).registerExportCommands;
const cache = (): Register => (require('./commands/cache') as typeof import('./commands/cache')).registerCacheCommands;
const dashboard = (): Register => (require('./commands/dashboard') as typeof import('./commands/dashboard')).registerDashboardCommands;
/* eslint-enable @typescript-eslint/no-require-imports */

export const TOP_COMMANDS: readonly TopCommand[] = [
  { name: 'experiment', summary: 'run, validate or dry-run a whole experiment from a manifest', load: () => [experiment()] },
  { name: 'status', summary: "a run's phase, cells done / training / waiting, metrics so far", load: () => [status()] },
  { name: 'dashboard', summary: 'serve run folders in the browser (tables, curves, angles, demo)', load: () => [dashboard()] },
  { name: 'teacher', summary: 'teacher stages: train, cache its hidden states', load: () => [teacher(), stages()] },
  { name: 'student', summary: 'student stages: train one student from a teacher cache', load: () => [stages()] },
  { name: 'eval', summary: 'evaluate a Strata-exported teacher or student on a task split', load: () => [stages()] },
  { name: 'analyze', summary: 'analyses of trained students (angles)', load: () => [analyze()] },
  { name: 'cache', summary: 'verify and repair a teacher cache folder', load: () => [cache()] },
  { name: 'export', summary: 'write trained models in other formats (Hugging Face)', load: () => [exporter()] },
  { name: 'kd', summary: 'layer maps of the layer-selection strategies', load: () => [kd()] },
  { name: 'onnx', summary: 'check ONNX models and append backward passes', load: () => [onnx()] },
  { name: 'data', summary: 'datasets: built-in tasks, splits and statistics', load: () => [data()] },
  { name: 'metrics', summary: 'sacreBLEU-compatible BLEU and chrF of system outputs', load: () => [metrics()] },
  { name: 'bench', summary: 'benchmarks (strata bench --help lists them)', load: () => [bench()] },
  { name: 'k8s', summary: "Kubernetes: an Experiment's objects, the CRD, overlay settings", load: () => [k8s()] },
];

/**
 * Commander with the CLI's error conventions: every parse error (unknown option or command, missing or invalid
 * argument, a group called without its subcommand) becomes a UsageError for `run` to print once, in one style.
 */
class StrataCommand extends Command {
  override createCommand(name?: string): Command {
    return new StrataCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    throw new UsageError(usageMessage(message, errorOptions?.code), this);
  }

  override help(context?: HelpContext): never;
  override help(cb: (str: string) => string): never;
  override help(context?: HelpContext | ((str: string) => string)): never {
    if (typeof context === 'object' && context.error) throw new UsageError(this.commands.length ? 'missing command' : 'missing arguments', this);
    return super.help(context as HelpContext);
  }
}

/** What `argv` asks for before commander parses it: the top-level command (lazy loading) and the log format. */
export function preParse(argv: readonly string[]): { command?: string; logFormat?: string } {
  let command: string | undefined;
  let logFormat: string | undefined;
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    if (a === '--log-format') logFormat = args[++i];
    else if (a.startsWith('--log-format=')) logFormat = a.slice('--log-format='.length);
    else if (!a.startsWith('-') && command === undefined && a !== 'help') command = a;
  }
  return { command, logFormat };
}

/** The program with `only` registered in full (every command when undefined) and the rest by name. */
export function buildProgram(only?: string | null): Command {
  const program = new StrataCommand('strata')
    .description('Knowledge distillation with intermediate-layer matching on ONNX Runtime')
    .version('0.1.0')
    .addOption(new Option('--log-format <format>', 'stderr logs of long work as plain text or JSON lines {time, level, msg, ...}').choices(LOG_FORMATS).default('text'))
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`strata: ${text.replace(/^error: /, '')}`) })
    // Inherited by every subcommand: required options say so in --help.
    .configureHelp({
      optionDescription(this: Help, option: Option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
    .addHelpText('after', '\nExamples:\n  strata experiment validate examples/quickstart.yaml\n  strata experiment run examples/quickstart.yaml\n  strata status runs/quickstart-spam\n  strata <command> --help');
  const full = only === undefined ? TOP_COMMANDS : TOP_COMMANDS.filter((c) => c.name === only);
  const registered = new Set<Register>();
  for (const top of full)
    for (const register of top.load()) {
      if (registered.has(register)) continue;
      registered.add(register);
      register(program);
    }
  for (const top of TOP_COMMANDS) {
    const cmd = program.commands.find((c) => c.name() === top.name);
    if (cmd) cmd.summary(top.summary);
    else program.command(top.name).summary(top.summary);
  }
  // Commander lists commands in registration order; the table's order reads best (the experiment first).
  const order = new Map(TOP_COMMANDS.map((c, i) => [c.name, i]));
  (program.commands as Command[]).sort((a, b) => (order.get(a.name()) ?? 99) - (order.get(b.name()) ?? 99));
  return program;
}

/**
 * Runs the CLI and returns the exit code: 0, 1 (the work failed), 2 (usage error), or the code an error carries
 * (130 / 143: stopped by SIGINT / SIGTERM with checkpoints saved). Every error is printed once, as `strata: <message>`.
 */
export async function run(argv: string[]): Promise<number> {
  const pre = preParse(argv);
  if (pre.logFormat === 'json') useJsonStderr();
  // `strata ... --help | head`: the reader has gone, nothing left to say (not a crash with a stack trace).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram(TOP_COMMANDS.some((c) => c.name === pre.command) ? pre.command : null);
  let active: Command = program;
  program.hook('preAction', (_, actionCommand) => {
    active = actionCommand;
  });
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string; stack?: string };
    // --help and --version end the parse by throwing (exitOverride) with exit code 0.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return e.exitCode ?? 0;
    if (err instanceof UsageError) {
      const cmd = err.command ?? active;
      writeLog(`strata: ${err.message}\n${usageHint(cmd).join('\n')}`, 'error', { usage: true });
      return USAGE_EXIT;
    }
    writeLog(`strata: ${errorMessage(err)}`, 'error');
    if (process.env.STRATA_DEBUG) writeLog(String(e.stack), 'error');
    return Number.isInteger(e.exitCode) ? (e.exitCode as number) : 1;
  }
}
