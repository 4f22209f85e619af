import type { Command } from 'commander';
import { requireDir } from '../cli-errors';
import { repairCache, verifyCache, type CacheCheck } from '@strata/activations';

function describe(c: CacheCheck): string {
  const state = c.complete ? 'complete (manifest.json)' : 'incomplete (no manifest.json)';
  const torn = c.tornTailBytes ? `; an unfinished last record of ${c.tornTailBytes} bytes (an interrupted writer; the next run cuts it off)` : '';
  return `${c.dir}: ${c.records} sound records, ${state}${torn}`;
}

export function registerCacheCommands(program: Command): void {
  const cache = program.command('cache').description('check and repair a teacher cache folder (<cache root>/<cache key>)');
  cache
    .command('verify <dir>')
    .description('read every record of a file cache: checksums, example ids, the manifest; exit 1 if anything is damaged')
    .option('--json', 'print the check as JSON')
    .addHelpText('after', '\nExample:\n  strata cache verify runs/quickstart-spam/cache/22d187c1e0c6c86a7d5b')
    .action((dir: string, o: { json?: boolean }) => {
      const c = verifyCache(requireDir(dir, 'a teacher cache folder (<cache root>/<cache key>)'));
      if (o.json) process.stdout.write(`${JSON.stringify(c)}\n`);
      else {
        process.stdout.write(`${describe(c)}\n`);
        if (c.damage) process.stdout.write(`damaged at record #${c.damage.index}${c.damage.segment ? ` (${c.damage.segment}@${c.damage.offset})` : ''}: ${c.damage.message}\nrepair: strata cache repair ${dir}\n`);
      }
      if (c.damage) process.exitCode = 1;
    });
  cache
    .command('repair <dir>')
    .description('keep the records before the first damaged one, drop the rest and the manifest; the next run caches them again')
    .option('--json', 'print what was done as JSON')
    .addHelpText('after', '\nExample:\n  strata cache repair runs/quickstart-spam/cache/22d187c1e0c6c86a7d5b && npm start')
    .action((dir: string, o: { json?: boolean }) => {
      const r = repairCache(requireDir(dir, 'a teacher cache folder (<cache root>/<cache key>)'));
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else if (!r.damage) process.stdout.write(`${describe(r)}; nothing to repair\n`);
      else process.stdout.write(`${dir}: damage at record #${r.damage.index}: ${r.damage.message}\nkept ${r.records} records, dropped ${r.dropped}; changed ${r.changed.join(', ')}\nthe next run of the same experiment (or strata teacher cache) caches the dropped examples again\n`);
    });
}
