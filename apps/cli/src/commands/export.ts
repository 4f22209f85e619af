import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { requireFile } from '../cli-errors';
import { loadTeacher } from '@strata/experiment';
import { writeHfCheckpoint } from '@strata/hub';

/**
 * The tokenizer of a student: beside it, or in the experiment's teacher folder (`students/<cell>.onnx` and
 * `students/<cell>/student.onnx` both sit under the run folder that holds `teacher/tokenizer.json`).
 */
function findTokenizer(onnx: string): string | undefined {
  const dir = path.dirname(path.resolve(onnx));
  return [path.join(dir, 'tokenizer.json'), path.join(dir, '..', 'teacher', 'tokenizer.json'), path.join(dir, '..', '..', 'teacher', 'tokenizer.json')].find((f) => fs.existsSync(f));
}

/** Label names: --labels, else the config.json written with the model or its run's teacher, else LABEL_0.. as transformers names them. */
function labelsOf(onnx: string, numLabels: number, given?: string): string[] {
  if (given !== undefined) {
    const labels = given.split(',').map((l) => l.trim());
    if (labels.length !== numLabels) throw new Error(`--labels names ${labels.length} labels; the model has ${numLabels}`);
    return labels;
  }
  // Beside the model, in its cell folder (students/<cell>.onnx has students/<cell>/config.json), or the run's teacher's.
  const dir = path.dirname(path.resolve(onnx));
  const candidates = [path.join(dir, 'config.json'), path.join(dir, path.basename(onnx, '.onnx'), 'config.json'), path.join(dir, '..', 'teacher', 'config.json'), path.join(dir, '..', '..', 'teacher', 'config.json')];
  for (const config of candidates.filter((f) => fs.existsSync(f))) {
    const id2label = (JSON.parse(fs.readFileSync(config, 'utf8')) as { id2label?: Record<string, string> }).id2label;
    if (id2label && Object.keys(id2label).length === numLabels) return Array.from({ length: numLabels }, (_, i) => id2label[String(i)]);
  }
  return Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('write trained models in other formats');
  exp
    .command('hf')
    .description('write a Strata-exported BERT classifier (a student or teacher .onnx) as a Hugging Face checkpoint folder: model.safetensors, config.json, tokenizer.json, tokenizer_config.json')
    .argument('<model.onnx>', 'a student or teacher exported by Strata')
    .argument('<dir>', 'output folder (created; existing files of the same names are replaced)')
    .option('--tokenizer <file>', 'tokenizer.json (default: beside the model, or the experiment\'s teacher/tokenizer.json)')
    .option('--labels <names>', 'comma-separated label names in id order (default: config.json beside the model)')
    .addHelpText('after', '\nExample:\n  strata export hf runs/quickstart-spam/students/forward-copy-d2-s1.onnx runs/student-hf')
    .action((onnx: string, dir: string, o: { tokenizer?: string; labels?: string }) => {
      requireFile(onnx, 'a student or teacher .onnx exported by Strata');
      const tokenizer = o.tokenizer ?? findTokenizer(onnx);
      if (!tokenizer) throw new Error(`${onnx}: no tokenizer.json beside it or in the experiment's teacher folder; give --tokenizer`);
      const model = loadTeacher(onnx, tokenizer);
      if (model.graph) throw new Error(`${onnx} was not exported by Strata (no strata.config metadata); export hf writes Strata's own students and teachers`);
      const files = writeHfCheckpoint(dir, { config: model.config, values: model.values, labels: labelsOf(onnx, model.config.numLabels, o.labels), tokenizer });
      process.stdout.write(`wrote ${files.join(', ')}\n`);
    });
}
