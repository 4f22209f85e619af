// `strata analyze angles`: METHOD.md §5 angle statistics of a student against its teacher.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { PROJECTIONS_FILE, analyzeAngles, loadTeacher, readProjections, writeAnglePlots } from '@strata/experiment';
import { mustExist, positiveInt } from './stages';

export function registerAnalyzeCommands(program: Command): void {
  const analyze = program.command('analyze').description('analyses of trained students');
  analyze
    .command('angles')
    .description('per student layer: mean cosine over teacher-layer pairs and the fraction of acute angles; writes SVG heatmaps and histograms')
    .requiredOption('--teacher <onnx>', 'teacher .onnx exported by Strata')
    .option('--tokenizer <json>', 'tokenizer (default tokenizer.json next to the teacher)')
    .requiredOption('--student <onnx>', 'student .onnx exported by Strata')
    .option('--projections <file>', `a narrower student's trained projections (default: students/<cell>/${PROJECTIONS_FILE} beside a run's students/<cell>.onnx)`)
    .requiredOption('--task <id>', 'task id')
    .option('--split <name>', 'split to analyze', 'dev')
    .option('--max-examples <n>', 'examples of the split to use', positiveInt('--max-examples'), 256)
    .option('--data-root <dir>', 'data root (default ../shared/data or STRATA_DATA_ROOT)')
    .option('--out <dir>', 'directory for the SVG plots', './angles')
    .option('--json', 'print the per-layer arrays as JSON')
    .addHelpText('after', '\nExample:\n  strata analyze angles --teacher runs/quickstart-spam/teacher.onnx --student runs/quickstart-spam/students/forward-copy-d2-s1.onnx --task spam')
    .action(async (o) => {
      const teacher = loadTeacher(mustExist(o.teacher, 'a teacher .onnx exported by Strata'), o.tokenizer);
      const student = mustExist(o.student, 'a student .onnx exported by Strata');
      // A run keeps a narrow student's projections in students/<cell>/ next to students/<cell>.onnx.
      const beside = path.join(path.dirname(student), path.basename(student, '.onnx'), PROJECTIONS_FILE);
      const projectionsFile = o.projections ? mustExist(o.projections, `a ${PROJECTIONS_FILE} written by the student's training`) : fs.existsSync(beside) ? beside : undefined;
      const result = await analyzeAngles(teacher, student, undefined, o.task, o.split, o.maxExamples, o.dataRoot, projectionsFile ? readProjections(projectionsFile) : undefined);
      const files = writeAnglePlots(path.resolve(o.out), result, `${path.basename(o.student)}: `);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ teacherLayers: result[0]?.teacherLayers ?? [], layers: result, plots: files })}\n`);
        return;
      }
      const lines: string[] = [];
      for (const l of result) {
        const t = l.teacherLayers;
        lines.push(`student layer ${l.studentLayer}: acute fraction ${l.fractionAcute.toFixed(4)}; mean cosine over teacher layers`);
        lines.push(`${'t'.padStart(6)} ${t.map((x) => String(x).padStart(7)).join(' ')}`);
        t.forEach((row, i) => lines.push(`${String(row).padStart(6)} ${t.map((_, j) => l.meanCosine[i * t.length + j].toFixed(4).padStart(7)).join(' ')}`));
        lines.push('');
      }
      lines.push(`plots: ${path.resolve(o.out)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
