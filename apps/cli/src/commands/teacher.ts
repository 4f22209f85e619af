import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError, requireFile } from '../cli-errors';
import { TEACHER_TRAIN_DEFAULTS, finetuneTeacher, readManifestFile, trainTeacher, withStopOnSignals, type TeacherFinetuneOptions, type TeacherTrainOptions } from '@strata/experiment';

/** Flags a manifest fixes; given together with --manifest they would be ignored, so they are refused. */
const MODEL_FLAGS = ['task', 'layers', 'hidden', 'heads', 'ffn', 'maxLength', 'vocab', 'epochs', 'batchSize', 'lr', 'seed', 'evalSplit', 'maxTrain', 'maxEval', 'pretrained'];
/** Flags a pretrained checkpoint fixes (its config.json and tokenizer). */
const ARCHITECTURE_FLAGS = ['layers', 'hidden', 'heads', 'ffn', 'vocab'];
const flagName = (f: string) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${v}'`);
  return n;
};

export function registerTeacherCommands(program: Command): void {
  const teacher = program.command('teacher').description('teacher stages: train (from scratch), cache (its hidden states)');
  const d = TEACHER_TRAIN_DEFAULTS;
  teacher
    .command('train')
    .description('train a BERT-style teacher on a classification task (from scratch, or fine-tuned from a Hugging Face checkpoint with --pretrained), resumably; writes teacher.onnx, tokenizer.json, config.json, teacher.json')
    .option('--task <id>', 'task id (e.g. spam, sst2, qnli, qqp, mnli); required without --manifest')
    .option('--pretrained <dir>', 'fine-tune this Hugging Face BERT checkpoint folder (config.json, model.safetensors, tokenizer.json) instead of training from scratch; --epochs, --batch-size, --lr, --max-length and --seed then default to the fine-tuning defaults (3, 32, 5e-5, 128, 1)')
    .option('--manifest <file>', 'train the teacher an experiment manifest describes (spec.teacher.train or .pretrained, its splits and data limits), as experiment run does')
    .option('--base <dir>', 'with --manifest: resolve its relative paths (teacher.pretrained, teacher.tokenizer, data.root) against this folder instead of the manifest\'s (the Kubernetes teacher Job passes the artifacts volume)')
    .requiredOption('--out <dir>', 'output directory (re-running resumes from its checkpoint)')
    .option('--layers <n>', 'encoder layers', int, d.layers)
    .option('--hidden <n>', 'hidden size', int, d.hidden)
    .option('--heads <n>', 'attention heads', int, d.heads)
    .option('--ffn <n>', 'feed-forward size', int, d.intermediate)
    .option('--max-length <n>', 'maximum tokens per example', int, d.maxLength)
    .option('--vocab <n>', 'tokenizer vocabulary size', int, d.vocabSize)
    .option('--epochs <n>', 'training epochs', int, d.epochs)
    .option('--batch-size <n>', 'batch size', int, d.batchSize)
    .option('--lr <x>', 'peak learning rate', num, d.lr)
    .option('--seed <n>', 'seed', int, d.seed)
    .option('--eval-split <name>', 'split to report accuracy on', 'dev')
    .option('--max-train <n>', 'use only the first n training examples', int)
    .option('--max-eval <n>', 'use only the first n evaluation examples', int)
    .option('--data-root <dir>', 'data root (default ../shared/data or STRATA_DATA_ROOT)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  strata teacher train --task spam --out runs/t\n  strata teacher train --task sst2 --pretrained ../shared/models/all-MiniLM-L6-v2 --epochs 1 --out runs/minilm-sst2\n  strata teacher train --manifest examples/quickstart.yaml --out runs/t')
    .action(async (o, cmd: Command) => {
      let run: () => ReturnType<typeof trainTeacher>;
      if (o.manifest !== undefined) {
        const given = MODEL_FLAGS.filter((f) => cmd.getOptionValueSource(f) === 'cli');
        if (given.length > 0) throw new UsageError(`--manifest fixes the teacher; drop ${given.map(flagName).join(', ')}`);
        const m = readManifestFile(requireFile(o.manifest, 'an experiment manifest (.yaml or .json)'));
        const s = m.spec;
        const base = o.base ?? path.dirname(o.manifest);
        const stage = {
          task: s.task, outDir: o.out, evalSplit: s.eval.split, trainSplit: s.data.trainSplit,
          dataRoot: o.dataRoot ?? (s.data.root ? path.resolve(base, s.data.root) : undefined),
          maxTrainExamples: s.data.maxTrainExamples, maxEvalExamples: s.data.maxEvalExamples,
        };
        if (s.teacher.train) run = () => trainTeacher({ ...stage, config: s.teacher.train });
        else if (s.teacher.pretrained) {
          const options: TeacherFinetuneOptions = {
            ...stage, maxTrainExamples: s.teacher.finetune?.maxTrainExamples ?? stage.maxTrainExamples, config: s.teacher.finetune,
            pretrained: path.resolve(base, s.teacher.pretrained), tokenizer: s.teacher.tokenizer ? path.resolve(base, s.teacher.tokenizer) : undefined,
          };
          run = () => finetuneTeacher(options);
        } else throw new Error(`${o.manifest}: spec.teacher gives a finished teacher (spec.teacher.onnx); there is nothing to train (use train or pretrained)`);
      } else {
        if (o.base !== undefined) throw new UsageError('--base applies to the paths of a --manifest');
        if (o.task === undefined) throw new UsageError("required option '--task <id>' not specified (or give --manifest)");
        const stage = { task: o.task, outDir: o.out, evalSplit: o.evalSplit, dataRoot: o.dataRoot, maxTrainExamples: o.maxTrain, maxEvalExamples: o.maxEval };
        if (o.pretrained !== undefined) {
          const fixed = ARCHITECTURE_FLAGS.filter((f) => cmd.getOptionValueSource(f) === 'cli');
          if (fixed.length > 0) throw new UsageError(`--pretrained fixes the architecture (its config.json); drop ${fixed.map(flagName).join(', ')}`);
          // Only the flags actually given: the from-scratch defaults (lr 5e-4, ...) would ruin a pretrained model.
          const given = (f: string) => cmd.getOptionValueSource(f) === 'cli';
          const config = Object.fromEntries((['epochs', 'batchSize', 'lr', 'maxLength', 'seed'] as const).filter(given).map((f) => [f, o[f]]));
          run = () => finetuneTeacher({ ...stage, pretrained: o.pretrained, config });
        } else {
          const config = { layers: o.layers, hidden: o.hidden, heads: o.heads, intermediate: o.ffn, maxLength: o.maxLength, vocabSize: o.vocab, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed };
          const options: TeacherTrainOptions = { ...stage, config };
          run = () => trainTeacher(options);
        }
      }
      const result = await withStopOnSignals(run);
      if (o.json) process.stdout.write(`${JSON.stringify({ onnx: result.onnx, tokenizer: result.tokenizer, metrics: result.metrics, evalSplit: result.evalSplit })}\n`);
      else process.stdout.write(`teacher: ${result.onnx}\n${result.evalSplit} accuracy: ${(result.metrics.accuracy * 100).toFixed(2)}%\n`);
    });
}
