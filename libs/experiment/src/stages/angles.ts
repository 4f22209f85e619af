// Angle analysis (METHOD.md §5): per student layer, mean cosines over teacher-layer pairs, the fraction of acute
// angles and a cosine histogram, from the hidden states of teacher and student on an evaluation split.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBatches } from '@strata/data';
import { AngleAccumulator, type StudentLayerAngles } from '@strata/kd';
import { bertMaxLength } from '@strata/nn';
import { createSession } from '@strata/onnx';
import { heatmapSvg, histogramSvg } from '@strata/plots';
import { batchFeeds, bertInferenceModel } from '@strata/train';
import { LoadedTeacher, encodeClassification, feedsFor, lengthBuckets, loadTeacher, teacherForward } from './common';
import { projectRows, type readProjections } from './student-width';

/**
 * Mean cosine per student layer over teacher layers 1..L_t, from hidden states of the eval split. The student is a
 * Strata-exported BERT .onnx sharing the teacher's tokenizer; `depth` defaults to all its layers. A student narrower
 * than the teacher is seen through its trained projections (the ones its hidden loss used, `readProjections`): each
 * student layer with one is compared in the teacher's space; layers without one are left out.
 */
export async function analyzeAngles(teacher: LoadedTeacher, studentOnnx: string, depth: number | undefined, task: string, split: string, examples: number, dataRoot?: string, projections?: ReturnType<typeof readProjections>): Promise<StudentLayerAngles[]> {
  const student = loadTeacher(studentOnnx, teacher.tokenizerPath);
  const narrow = student.config.hidden !== teacher.config.hidden;
  if (narrow && !projections?.size) throw new Error(`student hidden size ${student.config.hidden} differs from the teacher's ${teacher.config.hidden}, and no projections were given to compare them through`);
  const studentDepth = depth ?? student.config.layers;
  if (studentDepth > student.config.layers) throw new Error(`depth ${studentDepth} exceeds the student's ${student.config.layers} layers`);
  for (const [layer, p] of projections ?? []) if (p.studentWidth !== student.config.hidden || p.teacherWidth !== teacher.config.hidden) throw new Error(`the projection of student layer ${layer} maps ${p.studentWidth} -> ${p.teacherWidth}, not ${student.config.hidden} -> ${teacher.config.hidden}`);
  const data = await encodeClassification(task, split, teacher.tokenizer, bertMaxLength(teacher.config), { dataRoot, maxExamples: examples });
  const batches = makeBatches(data.rows, { batchSize: 32, buckets: lengthBuckets(bertMaxLength(teacher.config)), shuffle: false });
  const studentLayers = Array.from({ length: studentDepth }, (_, i) => i + 1).filter((l) => !narrow || projections!.has(l));
  // In the teacher's space: the projection of a narrower student's layer (none at equal widths).
  const view = (layer: number, x: Float32Array) => (narrow ? projectRows(x, projections!.get(layer)!) : x);
  const teacherLayers = Array.from({ length: teacher.config.layers }, (_, i) => i + 1);
  const acc = new AngleAccumulator(studentLayers, teacherLayers);
  type Session = Awaited<ReturnType<typeof createSession>>;
  const teacherSessions = new Map<string, Session>();
  const studentSessions = new Map<string, Session>();
  try {
    for (const b of batches) {
      const key = `${b.batchSize}x${b.length}`;
      const forward = teacherForward(teacher, b.batchSize, b.length);
      if (!teacherSessions.has(forward.key)) teacherSessions.set(forward.key, await createSession(forward.model()));
      if (!studentSessions.has(key)) studentSessions.set(key, await createSession(bertInferenceModel(student.config, b.batchSize, b.length, { kind: 'initializers', values: student.values })));
      const [ts, ss] = [teacherSessions.get(forward.key)!, studentSessions.get(key)!];
      const feeds = batchFeeds(b, false);
      const [to, so] = [await ts.run(feedsFor(ts.inputNames, feeds)), await ss.run(feeds)];
      acc.add({
        batchSize: b.batchSize, seqLen: b.length, hiddenSize: teacher.config.hidden, attentionMask: b.attentionMask,
        student: studentLayers.map((l) => view(l, so[`hidden_states.${l}`].data as Float32Array)),
        teacher: teacherLayers.map((l) => to[`hidden_states.${l}`].data as Float32Array),
      });
    }
  } finally {
    for (const s of [...teacherSessions.values(), ...studentSessions.values()]) await s.release();
  }
  return acc.result();
}

/** SVGs of one student layer's angles: the mean-cosine heatmap and the cosine histogram. */
export function anglePlots(l: StudentLayerAngles, titlePrefix: string): { heatmap: string; histogram: string } {
  const labels = l.teacherLayers.map(String);
  return {
    heatmap: heatmapSvg({ title: `${titlePrefix}mean cos at student layer ${l.studentLayer}`, rowLabels: labels, colLabels: labels, values: Array.from(l.meanCosine), min: -1, max: 1, colorScale: 'diverging', rowTitle: 'teacher layer', colTitle: 'teacher layer' }),
    histogram: histogramSvg({ title: `${titlePrefix}cosines at student layer ${l.studentLayer}`, bins: l.histogram, xLabel: 'cosine' }),
  };
}

/** Writes `angles-s<k>.svg` and `angles-hist-s<k>.svg` per student layer into outDir; returns the files written. */
export function writeAnglePlots(outDir: string, result: readonly StudentLayerAngles[], titlePrefix = ''): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const l of result) {
    const { heatmap, histogram } = anglePlots(l, titlePrefix);
    const h = path.join(outDir, `angles-s${l.studentLayer}.svg`);
    const g = path.join(outDir, `angles-hist-s${l.studentLayer}.svg`);
    fs.writeFileSync(h, heatmap);
    fs.writeFileSync(g, histogram);
    files.push(h, g);
  }
  return files;
}
