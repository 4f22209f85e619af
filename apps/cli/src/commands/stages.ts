// The pipeline stages one at a time: `teacher cache`, `student train`, `eval`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError, requireFile } from '../cli-errors';
import { TEACHER_PRECISIONS, cacheTeacherStates, describeSplit, evaluateGenerationModel, evaluateModel, loadTeacher, trainStudent, withStopOnSignals, type SplitRef } from '@strata/experiment';
import { getTask } from '@strata/data';
import { HIDDEN_NORMALIZATIONS, KD_LOSS_DEFAULTS, layerSelectionNames, type HiddenNormalize } from '@strata/kd';

export const positiveInt = (field: string) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${field} must be a positive integer, got '${v}'`);
  return n;
};
const nonNegInt = (field: string) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${field} must be an integer >= 0, got '${v}'`);
  return n;
};
const positiveNum = (field: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${field} must be a number > 0, got '${v}'`);
  return n;
};
const weight = (field: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${field} must be a number >= 0, got '${v}'`);
  return n;
};
export const layerList = (field: string) => (v: string): number[] => {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError(`${field} must be comma-separated layer indices like 0,2,4, got '${v}'`);
  return parts.map(Number);
};
const oneOf = <T extends string>(field: string, values: readonly T[]) => (v: string): T => {
  if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${field} must be one of ${values.join(', ')}, got '${v}'`);
  return v as T;
};
const fraction = (field: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError(`${field} must be a fraction between 0 and 1, got '${v}'`);
  return n;
};
const DTYPES = ['float16', 'bfloat16', 'float32'] as const;

/** `file` when it is a readable file; otherwise an error naming the path and what was expected (`what`). */
export function mustExist(file: string, what: string): string {
  return requireFile(file, what);
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function registerStageCommands(program: Command): void {
  let teacher = program.commands.find((c) => c.name() === 'teacher');
  if (!teacher) teacher = program.command('teacher').description('teacher stages');
  teacher
    .command('cache')
    .description('run the frozen teacher once over a split and cache the selected hidden states and logits (idempotent by cache key; resumes)')
    .requiredOption('--teacher <onnx>', 'teacher .onnx exported by Strata')
    .option('--tokenizer <json>', 'tokenizer (default tokenizer.json next to the teacher)')
    .requiredOption('--task <id>', 'task id (e.g. spam, sst2)')
    .option('--split <name>', 'split to cache', 'train')
    .requiredOption('--layers <list>', 'teacher hidden-state indices to keep, 0 = embeddings (e.g. 0,2,4)', layerList('--layers'))
    .option('--dtype <type>', `stored precision: ${DTYPES.join(', ')}`, oneOf('--dtype', DTYPES), 'float16')
    .option('--teacher-precision <p>', `the teacher's weight products during the pass: ${TEACHER_PRECISIONS.join(', ')} (int8: dynamic quantization, about 2x faster; its error is logged)`, oneOf('--teacher-precision', TEACHER_PRECISIONS), 'float32')
    .requiredOption('--cache-root <dir>', 'cache root directory')
    .option('--batch-size <n>', 'inference batch size', positiveInt('--batch-size'), 32)
    .option('--data-root <dir>', 'data root (default ../shared/data or STRATA_DATA_ROOT)')
    .option('--max-examples <n>', 'cache a deterministic subset of n examples', positiveInt('--max-examples'))
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  strata teacher cache --teacher runs/t/teacher.onnx --task spam --layers 0,2,4 --cache-root runs/t/cache')
    .action(async (o) => {
      const t = loadTeacher(mustExist(o.teacher, 'a teacher .onnx exported by Strata'), o.tokenizer);
      const r = await withStopOnSignals(() => cacheTeacherStates({
        teacher: t, task: o.task, split: o.split, layers: o.layers, dtype: o.dtype, teacherPrecision: o.teacherPrecision, cacheRoot: o.cacheRoot, log: (l) => process.stderr.write(`${l}\n`),
        batchSize: o.batchSize, dataRoot: o.dataRoot, maxExamples: o.maxExamples,
      }));
      if (o.json) process.stdout.write(`${JSON.stringify({ cacheKey: r.cacheKey, count: r.count, computed: r.computed, cacheRoot: o.cacheRoot, teacherPrecision: r.teacherPrecision, ...(r.int8Error ? { int8Error: r.int8Error } : {}) })}\n`);
      else process.stdout.write(`cache key: ${r.cacheKey}\nexamples: ${r.count}${r.computed ? '' : ' (already cached)'}\n`);
    });

  const student = program.command('student').description('student stages: train (from a teacher cache)');
  const d = KD_LOSS_DEFAULTS;
  student
    .command('train')
    .description('train one student from cached teacher states with a layer-selection strategy, evaluate it and export student.onnx (resumable)')
    .requiredOption('--teacher <onnx>', 'teacher .onnx the cache was made from')
    .option('--tokenizer <json>', 'tokenizer (default tokenizer.json next to the teacher)')
    .requiredOption('--task <id>', 'task id')
    .requiredOption('--cache-root <dir>', 'cache root directory')
    .requiredOption('--cache-key <key>', "cache key printed by 'strata teacher cache'")
    .requiredOption('--strategy <name>', `layer-selection strategy (${[...new Set(['none', ...layerSelectionNames()])].join(', ')})`)
    .option('--explicit <list>', 'teacher layers for --strategy explicit (e.g. 4,8,12)', layerList('--explicit'))
    .option('--init <kind>', 'student initialization: copy | random', oneOf('--init', ['copy', 'random'] as const), 'copy')
    .requiredOption('--depth <n>', 'student layers', positiveInt('--depth'))
    .option('--seed <n>', 'seed', nonNegInt('--seed'), 1)
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'), 5)
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 32)
    .option('--lr <x>', 'peak learning rate', positiveNum('--lr'), 5e-4)
    .option('--kl <w>', 'prediction KL weight', weight('--kl'), d.kl)
    .option('--hidden <w>', 'hidden-state loss weight λ', weight('--hidden'), d.hidden)
    .option('--ce <w>', 'cross-entropy weight', weight('--ce'), d.ce)
    .option('--temperature <t>', 'KL temperature', positiveNum('--temperature'), d.temperature)
    .option('--normalize <mode>', `hidden-loss normalization: ${HIDDEN_NORMALIZATIONS.join(', ')}`, oneOf('--normalize', HIDDEN_NORMALIZATIONS as readonly HiddenNormalize[]), d.normalize)
    .requiredOption('--out <dir>', 'output directory (re-running resumes from its checkpoint)')
    .option('--eval-split <name>', 'split to report metrics on', 'dev')
    .option('--data-root <dir>', 'data root (default ../shared/data or STRATA_DATA_ROOT)')
    .option('--max-train <n>', 'train on a deterministic subset of n examples (must match the cache)', positiveInt('--max-train'))
    .option('--max-eval <n>', 'evaluate on a deterministic subset of n examples', positiveInt('--max-eval'))
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  strata student train --teacher runs/t/teacher.onnx --task spam --cache-root runs/t/cache --cache-key <key printed by teacher cache> --strategy forward --depth 2 --out runs/s')
    .action(async (o) => {
      const strategies = [...new Set(['none', ...layerSelectionNames()])];
      if (!strategies.includes(o.strategy)) throw new UsageError(`--strategy must be one of ${strategies.join(', ')}, got '${o.strategy}'`);
      if (o.strategy === 'explicit' && !o.explicit) throw new UsageError('--strategy explicit needs --explicit <teacher layers>');
      if (!fs.existsSync(path.join(o.cacheRoot, o.cacheKey))) throw new Error(`no cache '${o.cacheKey}' under '${o.cacheRoot}'; run 'strata teacher cache' first`);
      const t = loadTeacher(mustExist(o.teacher, 'the teacher .onnx the cache was made from'), o.tokenizer);
      const r = await withStopOnSignals(() => trainStudent({
        teacher: t, task: o.task, cacheRoot: o.cacheRoot, cacheKey: o.cacheKey, strategy: o.strategy,
        strategyOptions: o.explicit ? { explicit: o.explicit } : undefined, init: o.init, depth: o.depth, seed: o.seed,
        loss: { kl: o.kl, hidden: o.hidden, ce: o.ce, temperature: o.temperature, normalize: o.normalize },
        epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, outDir: o.out, evalSplit: o.evalSplit, dataRoot: o.dataRoot,
        maxTrainExamples: o.maxTrain, maxEvalExamples: o.maxEval,
      }));
      // So that `strata eval --model <out>/student.onnx` finds the tokenizer next to the model.
      const tok = path.join(o.out, 'tokenizer.json');
      if (!fs.existsSync(tok)) fs.copyFileSync(t.tokenizerPath, tok);
      if (o.json) process.stdout.write(`${JSON.stringify({ onnx: r.onnx, tokenizer: tok, metrics: r.metrics, evalSplit: o.evalSplit, layerMaps: r.layerMaps, curve: r.curve })}\n`);
      else {
        const lines = [`student: ${r.onnx}`, `${o.evalSplit} accuracy: ${pct(r.metrics!.accuracy)}`];
        if (r.metrics!.f1 !== undefined) lines.push(`${o.evalSplit} F1: ${pct(r.metrics!.f1)}`);
        r.layerMaps.forEach((m, e) => lines.push(`epoch ${e + 1} layer map (student hs -> teacher hs): ${m.length ? m.map(([s, tt]) => `${s}->${tt}`).join(' ') : '(none)'}`));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
    });

  program
    .command('eval')
    .description('evaluate a Strata-exported model (teacher or student .onnx) on a task split: accuracy and F1 for classifiers; BLEU (and PER) for seq2seq; ranking accuracy, gold_nll (and exact match or accuracy_norm) for multiple choice')
    .requiredOption('--model <onnx>', 'model .onnx exported by Strata')
    .option('--tokenizer <json>', 'tokenizer (default tokenizer.json next to the model)')
    .requiredOption('--task <id>', 'task id')
    .option('--split <name>', 'split to evaluate', 'dev')
    .option('--carve <fraction>', 'generation tasks: evaluate the held-out part of --split carved by id hash, as an experiment\'s data.carve (e.g. 0.2 for HellaSwag)', fraction('--carve'))
    .option('--carve-seed <n>', 'seed of --carve', nonNegInt('--carve-seed'), 1)
    .option('--beam <n>', 'generation tasks: beam width', positiveInt('--beam'), 4)
    .option('--length-penalty <x>', 'generation tasks: beam length penalty', weight('--length-penalty'), 1)
    .option('--max-length <n>', 'generation tasks: source (or whole-sequence) token limit; default the model\'s positions', positiveInt('--max-length'))
    .option('--max-target-length <n>', 'seq2seq tasks: generated-token limit; default the model\'s positions', positiveInt('--max-target-length'))
    .option('--max-answer-length <n>', 'commonsenseqa: tokens of a generated answer', positiveInt('--max-answer-length'), 12)
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 32)
    .option('--data-root <dir>', 'data root (default ../shared/data or STRATA_DATA_ROOT)')
    .option('--max-examples <n>', 'evaluate on a deterministic subset of n examples', positiveInt('--max-examples'))
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  strata eval --model runs/quickstart-spam/students/forward-copy-d2-s1.onnx --tokenizer runs/quickstart-spam/teacher/tokenizer.json --task spam')
    .action(async (o) => {
      const model = mustExist(o.model, 'a model .onnx exported by Strata');
      const kind = getTask(o.task).kind;
      if (kind === 'seq2seq' || kind === 'multiple-choice') {
        const ref: SplitRef = o.carve ? { split: o.split, part: 'eval', carve: { from: o.split, evalFraction: o.carve, seed: o.carveSeed } } : { split: o.split };
        const r = await evaluateGenerationModel({
          onnx: model, tokenizerPath: o.tokenizer, task: o.task, ref, data: { dataRoot: o.dataRoot, maxExamples: o.maxExamples },
          maxLength: o.maxLength, maxTargetLength: o.maxTargetLength, beam: o.beam, lengthPenalty: o.lengthPenalty, maxAnswerLength: o.maxAnswerLength, batchSize: o.batchSize,
        });
        if (o.json) process.stdout.write(`${JSON.stringify({ model: o.model, task: o.task, split: describeSplit(ref), count: r.count, metrics: r.metrics })}\n`);
        else process.stdout.write(`${o.task}/${describeSplit(ref)} (${r.count} examples) ${Object.entries(r.metrics).map(([k, v]) => `${k}: ${v.toFixed(2)}`).join(', ')}\n`);
        return;
      }
      if (o.carve) throw new UsageError(`--carve is for generation tasks; '${o.task}' is ${kind}`);
      const r = await evaluateModel({ onnx: model, tokenizerPath: o.tokenizer, task: o.task, split: o.split, dataRoot: o.dataRoot, maxExamples: o.maxExamples, batchSize: o.batchSize });
      if (o.json) process.stdout.write(`${JSON.stringify({ model: o.model, task: o.task, split: o.split, ...r })}\n`);
      else process.stdout.write(`${o.task}/${o.split} (${r.count} examples) accuracy: ${pct(r.accuracy)}${r.f1 !== undefined ? `, F1: ${pct(r.f1)}` : ''}\n`);
    });
}
