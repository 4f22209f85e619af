import type { Command } from 'commander';
import { formatTaskStats, taskStats, type StatsTokenizer } from '@strata/data';

interface StatsFlags {
  json?: boolean;
  dataRoot?: string;
  tokenizer: string;
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('datasets: built-in tasks, splits and statistics');
  data
    .command('stats')
    .description('split sizes, label balance, skipped rows and token-length percentiles of a task')
    .argument('<task>', 'task id, e.g. sst2, mnli, dart, spam')
    .option('--json', 'print machine-readable JSON')
    .option('--data-root <dir>', 'folder holding the <task>/ data folders (default: $STRATA_DATA_ROOT, else <repo>/../shared/data)')
    .option('--tokenizer <kind>', 'wordpiece (trained on the train split) or whitespace', 'wordpiece')
    .addHelpText('after', '\nExamples:\n  strata data stats spam\n  strata data stats sst2 --data-root ../shared/data --json')
    .action(async (task: string, flags: StatsFlags) => {
      if (flags.tokenizer !== 'wordpiece' && flags.tokenizer !== 'whitespace') {
        throw new Error(`--tokenizer must be wordpiece or whitespace, got "${flags.tokenizer}"`);
      }
      const stats = await taskStats(task, { dataRoot: flags.dataRoot, tokenizer: flags.tokenizer as StatsTokenizer });
      process.stdout.write(flags.json ? `${JSON.stringify(stats, null, 2)}\n` : `${formatTaskStats(stats)}\n`);
    });
}
