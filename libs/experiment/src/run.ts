// `strata experiment run`: teacher -> cache -> every grid cell -> evaluation -> angles -> results.json + report.md.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getTask } from '@strata/data';
import { StrategyRequest, teacherLayerSet } from '@strata/kd';
import { heatmapSvg, histogramSvg, lineChartSvg } from '@strata/plots';
import { GridCell, cellHash, planGrid } from './grid';
import { AngleSummary, ExperimentResults, ResultCell, renderReport } from './report';
import { runGenerationExperiment } from './run-generation';
import { ExperimentManifest } from './schema';
import { analyzeAngles } from './stages/angles';
import { cacheTeacherStates } from './stages/cache';
import { LoadedTeacher, loadTeacher } from './stages/common';
import { trainStudent } from './stages/student';
import { trainTeacher } from './stages/teacher';
import { checkFiles, parseManifest, validateAgainstTeacher } from './validate';

export interface RunOptions {
  outDir?: string;
  log?: (line: string) => void;
  /** Examples of the eval split used by the angle analysis (default 256). */
  angleExamples?: number;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

const sha256File = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const pct = (m: { accuracy: number; f1?: number }) => {
  const out: Record<string, number> = { accuracy: m.accuracy * 100 };
  if (m.f1 !== undefined) out.f1 = m.f1 * 100;
  return out;
};

export async function runExperiment(manifestPath: string, opts: RunOptions = {}): Promise<{ outDir: string; results: ExperimentResults }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const manifest: ExperimentManifest = parseManifest(fs.readFileSync(manifestPath, 'utf8'), manifestPath);
  const baseDir = path.dirname(path.resolve(manifestPath));
  checkFiles(manifest, baseDir);
  const { spec } = manifest;
  // --- generation tasks (issue 7): seq2seq and multiple-choice tasks run their own pipeline (run-generation.ts).
  if (getTask(spec.task).kind !== 'classification') return runGenerationExperiment(manifest, path.resolve(manifestPath), opts);
  // --- end generation tasks
  if (spec.cache.store !== 'file') throw new Error(`${manifestPath}: spec.cache.store '${spec.cache.store}' needs the services (Kafka); embedded runs use 'file'`);
  if (spec.teacher.train && spec.students.hidden !== undefined && spec.students.hidden !== spec.teacher.train.hidden)
    throw new Error(`${manifestPath}: spec.students.hidden ${spec.students.hidden} differs from spec.teacher.train.hidden ${spec.teacher.train.hidden}; students narrower or wider than the teacher are not supported by the embedded trainer yet`);
  const outDir = path.resolve(opts.outDir ?? path.join('runs', manifest.metadata.name));
  fs.mkdirSync(path.join(outDir, 'plots'), { recursive: true });
  fs.mkdirSync(path.join(outDir, 'students'), { recursive: true });
  const dataRoot = spec.data.root ? path.resolve(baseDir, spec.data.root) : undefined;
  const evalSplit = spec.eval.split;

  // 1. Teacher: trained here (resumable) or loaded.
  let teacher: LoadedTeacher;
  let teacherMetrics: Record<string, number>;
  if (spec.teacher.train) {
    const t = await trainTeacher({ task: spec.task, outDir: path.join(outDir, 'teacher'), config: spec.teacher.train, evalSplit, trainSplit: spec.data.trainSplit, dataRoot, maxTrainExamples: spec.data.maxTrainExamples, maxEvalExamples: spec.data.maxEvalExamples, log });
    teacher = loadTeacher(t.onnx, t.tokenizer);
    teacherMetrics = pct(t.metrics);
  } else {
    const onnx = path.resolve(baseDir, spec.teacher.onnx!);
    teacher = loadTeacher(onnx, spec.teacher.tokenizer ? path.resolve(baseDir, spec.teacher.tokenizer) : undefined);
    validateAgainstTeacher(manifest, { layers: teacher.config.layers, hidden: teacher.config.hidden });
    teacherMetrics = {};
  }
  if (spec.students.hidden !== undefined && spec.students.hidden !== teacher.config.hidden)
    // Projections exist in libs/kd (projectPairs) but the BERT student trainer does not train them yet: refuse rather than ignore the field.
    throw new Error(`${manifestPath}: spec.students.hidden ${spec.students.hidden} differs from the teacher's hidden size ${teacher.config.hidden}; students narrower or wider than the teacher are not supported by the embedded trainer yet`);
  fs.copyFileSync(teacher.onnx, path.join(outDir, 'teacher.onnx'));
  const teacherHash = sha256File(teacher.onnx);

  // 2. One cache of the teacher layers any cell can ask for.
  const cells: GridCell[] = planGrid(manifest, { teacherLayers: teacher.config.layers });
  const requests: StrategyRequest[] = cells
    .filter((c) => c.strategy !== 'none')
    .map((c) => ({ strategy: c.strategy, teacherLayers: teacher.config.layers, studentLayers: c.depth, options: c.options }));
  const layers = requests.length ? teacherLayerSet(...requests) : [];
  const cache = await cacheTeacherStates({ teacher, task: spec.task, split: spec.data.trainSplit, layers: layers.length ? layers : [teacher.config.layers], dtype: spec.cache.dtype, cacheRoot: path.join(outDir, 'cache'), dataRoot, maxExamples: spec.data.maxTrainExamples, log });
  log(`teacher cache ${cache.cacheKey}: ${cache.count} examples, layers ${layers.join(', ') || '(logits only)'}${cache.computed ? '' : ' (reused)'}`);

  // 3. Every cell; a finished cell with the same content hash is skipped.
  const resultCells: ResultCell[] = [];
  const curves: Record<string, [number, number][]> = {};
  for (const [i, cell] of cells.entries()) {
    const hash = cellHash(cell, { teacherHash, cacheKey: cache.cacheKey });
    const dir = path.join(outDir, 'students', cell.id);
    const resultFile = path.join(dir, 'result.json');
    if (fs.existsSync(resultFile)) {
      const done = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as ResultCell & { curve?: [number, number][] };
      if (done.hash === hash) {
        log(`[${i + 1}/${cells.length}] ${cell.id}: finished earlier, skipped`);
        resultCells.push(done);
        if (done.curve) curves[cell.id] = done.curve;
        continue;
      }
    }
    log(`[${i + 1}/${cells.length}] ${cell.id}`);
    const r = await trainStudent({
      teacher, task: spec.task, cacheRoot: path.join(outDir, 'cache'), cacheKey: cache.cacheKey, strategy: cell.strategy, strategyOptions: cell.options,
      init: cell.init, depth: cell.depth, seed: cell.seed, loss: cell.loss, epochs: cell.training.epochs, batchSize: cell.training.batchSize, lr: cell.training.lr,
      outDir: dir, evalSplit, trainSplit: spec.data.trainSplit, dataRoot, maxTrainExamples: spec.data.maxTrainExamples, maxEvalExamples: spec.data.maxEvalExamples, log,
    });
    const fixedMap = r.layerMaps.every((m) => JSON.stringify(m) === JSON.stringify(r.layerMaps[0]));
    const result: ResultCell & { curve: [number, number][]; layerMaps: typeof r.layerMaps } = {
      id: cell.id, strategy: cell.label, init: cell.init, seed: cell.seed, depth: cell.depth, layerMap: fixedMap ? r.layerMaps[0] : null,
      metrics: pct(r.metrics), curves: { trainLoss: r.curve.map((p) => p.loss) }, hash, curve: r.curve.map((p) => [p.step, p.loss]), layerMaps: r.layerMaps,
    };
    fs.copyFileSync(r.onnx, path.join(outDir, 'students', `${cell.id}.onnx`));
    writeAtomic(resultFile, `${JSON.stringify(result, null, 2)}\n`);
    resultCells.push(result);
    curves[cell.id] = result.curve;
  }

  // 4. Training curves, one chart per init (first seed of each strategy and depth).
  const firstSeed = spec.students.seeds[0];
  for (const init of spec.students.inits) {
    const series = cells.filter((c) => c.init === init && c.seed === firstSeed).map((c) => ({ name: `${c.label} d${c.depth}`, points: curves[c.id] ?? [] }));
    fs.writeFileSync(path.join(outDir, 'plots', `curves-${init}.svg`), lineChartSvg({ title: `training loss (${init} init, seed ${firstSeed})`, series, xLabel: 'step', yLabel: 'loss' }));
  }

  // 5. Angle analysis on the first seed's students.
  const angles: AngleSummary[] = [];
  if (spec.analysis.angles) {
    for (const cell of cells.filter((c) => c.seed === firstSeed && c.strategy !== 'none')) {
      const result = await analyzeAngles(teacher, path.join(outDir, 'students', `${cell.id}.onnx`), cell.depth, spec.task, spec.analysis.split ?? evalSplit, opts.angleExamples ?? 256, dataRoot);
      angles.push({ cellId: cell.id, layers: result.map((l) => ({ studentLayer: l.studentLayer, acuteFraction: l.fractionAcute, meanCosine: offDiagonalMean(l.meanCosine, l.teacherLayers.length) })) });
      for (const l of result) {
        const labels = l.teacherLayers.map(String);
        fs.writeFileSync(path.join(outDir, 'plots', `angles-${cell.id}-s${l.studentLayer}.svg`), heatmapSvg({ title: `${cell.id}: mean cos at student layer ${l.studentLayer}`, rowLabels: labels, colLabels: labels, values: Array.from(l.meanCosine), min: -1, max: 1, colorScale: 'diverging' }));
        fs.writeFileSync(path.join(outDir, 'plots', `angles-hist-${cell.id}-s${l.studentLayer}.svg`), histogramSvg({ title: `${cell.id}: cosines at student layer ${l.studentLayer}`, bins: l.histogram, xLabel: 'cosine' }));
      }
    }
  }

  const results: ExperimentResults = {
    experiment: manifest.metadata.name,
    task: spec.task,
    teacher: { metrics: teacherMetrics, layers: teacher.config.layers, hidden: teacher.config.hidden, hash: teacherHash },
    cells: resultCells,
    angles: angles.length ? angles : undefined,
    plots: fs.readdirSync(path.join(outDir, 'plots')).filter((f) => f.endsWith('.svg') && !f.startsWith('angles-hist-')).sort().map((f) => ({ title: f.replace(/\.svg$/, ''), file: `plots/${f}` })),
    createdAt: new Date().toISOString(),
    versions: { node: process.version, '@strata/experiment': '0.1.0', 'onnxruntime-node': '1.30.0' },
  };
  writeAtomic(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeAtomic(path.join(outDir, 'report.md'), renderReport(results));
  log(`wrote ${path.join(outDir, 'report.md')}`);
  return { outDir, results };
}

function offDiagonalMean(m: ArrayLike<number>, t: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) if (i !== j) {
    sum += m[i * t + j];
    n++;
  }
  return n ? sum / n : NaN;
}
