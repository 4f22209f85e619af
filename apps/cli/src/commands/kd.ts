import { InvalidArgumentError, type Command } from 'commander';
import { ARCHITECTURES, layerMap, layerSelectionNames, type Architecture, type LayerMapOptions } from '@strata/kd';

function positiveInt(field: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${field} must be a positive integer, got '${value}'`);
    return n;
  };
}

function integer(field: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${field} must be an integer, got '${value}'`);
    return n;
  };
}

function layerList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new InvalidArgumentError(`--explicit must be comma-separated teacher layers like 4,8,12, got '${value}'`);
    return Number(p);
  });
}

function architecture(value: string): Architecture {
  if (!(ARCHITECTURES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`--architecture must be one of ${ARCHITECTURES.join(', ')}, got '${value}'`);
  }
  return value as Architecture;
}

interface MapOpts {
  strategy: string;
  teacherLayers: number;
  studentLayers: number;
  seed?: number;
  epoch?: number;
  explicit?: number[];
  architecture?: Architecture;
  stack?: string;
  embeddings?: boolean;
  json?: boolean;
}

export function registerKdCommands(program: Command): void {
  const kd = program.command('kd').description('knowledge-distillation helpers: layer maps and weight-copy plans');

  kd.command('map')
    .description('print the resolved layer map [[studentHs, teacherHs], ...] (hs[0] = embeddings, hs[k] = layer k)')
    .requiredOption('--strategy <name>', `layer-selection strategy: ${layerSelectionNames().join(', ')}`)
    .requiredOption('--teacher-layers <n>', 'teacher depth L_t', positiveInt('--teacher-layers'))
    .requiredOption('--student-layers <n>', 'student depth L_s', positiveInt('--student-layers'))
    .option('--seed <k>', "the run's seed (out-of-order-random, rail-kd)", integer('--seed'))
    .option('--epoch <e>', 'epoch, 0-based (rail-kd)', integer('--epoch'))
    .option('--explicit <layers>', 'teacher layer per student layer for --strategy explicit, e.g. 4,8,12', layerList)
    .option('--architecture <arch>', `${ARCHITECTURES.join(' | ')} (default encoder; decoder skips the embedding pair)`, architecture)
    .option('--stack <name>', 'stack salt for seeded strategies (encoder | decoder of an encoder-decoder)')
    .option('--embeddings', 'match hs[0] even where the architecture does not by default')
    .option('--no-embeddings', 'do not match hs[0]')
    .option('--json', 'print the map as JSON')
    .addHelpText('after', '\nExample:\n  strata kd map --strategy forward --teacher-layers 12 --student-layers 3')
    .action((opts: MapOpts) => {
      const options: LayerMapOptions = {};
      if (opts.architecture !== undefined) options.architecture = opts.architecture;
      if (opts.embeddings !== undefined) options.matchEmbeddings = opts.embeddings;
      if (opts.explicit !== undefined) options.explicit = opts.explicit;
      if (opts.stack !== undefined) options.stack = opts.stack;
      const map = layerMap(opts.strategy, {
        teacherLayers: opts.teacherLayers,
        studentLayers: opts.studentLayers,
        seed: opts.seed,
        epoch: opts.epoch,
        options,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(map)}\n`);
        return;
      }
      const extras = [
        opts.seed !== undefined ? `seed ${opts.seed}` : '',
        opts.epoch !== undefined ? `epoch ${opts.epoch}` : '',
        opts.stack !== undefined ? `stack ${opts.stack}` : '',
      ].filter(Boolean);
      const lines = [
        `strategy ${opts.strategy}: teacher ${opts.teacherLayers} layers, student ${opts.studentLayers} layers, ${opts.architecture ?? 'encoder'}${extras.length ? `, ${extras.join(', ')}` : ''}`,
      ];
      if (map.length === 0) lines.push('(no matched pairs)');
      else {
        lines.push('student hs  teacher hs');
        for (const [s, t] of map) lines.push(`${String(s).padStart(10)}  ${String(t).padStart(10)}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
