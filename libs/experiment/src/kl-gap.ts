// The KL gap of a top-k teacher cache against the full distribution, measured on a small vocabulary (CMUdict G2P:
// letters and ARPAbet phonemes, under 100 tokens) with real models: a trained teacher, and students that are far from
// it (copy-initialized, untrained) and close to it (trained on the same data).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBatches } from '@strata/data';
import { topKGap, type TopKGap } from '@strata/kd';
import { createSession } from '@strata/onnx';
import { seq2seqFeeds } from '@strata/train';
import { lengthBuckets } from './stages/common';
import { encodeSeq2Seq, loadSeq2Seq } from './stages/generation-data';
import { GenerationConfig, fullInferenceModel, loadGenerationModel } from './stages/generation-model';
import { initialGenerationStudent } from './stages/generation-student';
import { trainGenerationTeacher, type GenerationTeacherConfig } from './stages/generation-teacher';

export interface KlGapReport {
  task: string;
  vocabSize: number;
  /** Target positions the means run over (teacher-forced dev references). */
  positions: number;
  pairs: { student: string; gaps: TopKGap[] }[];
}

const SIZES = { maxLength: 24, maxTargetLength: 24 };

/** Trains (or reuses, under outDir) a small G2P teacher and a 1+1-layer student, then measures the gaps. */
export async function measureTopKGap(outDir: string, opts: { ks?: number[]; log?: (l: string) => void } = {}): Promise<KlGapReport> {
  const log = opts.log ?? (() => undefined);
  const task = 'cmudict-g2p';
  const base: GenerationTeacherConfig = {
    layers: 3, hidden: 64, heads: 4, intermediate: 256, ...SIZES, vocabSize: 128, tokenizer: 'word-level', epochs: 8, batchSize: 32, lr: 1e-3,
    warmupRatio: 0.1, dropout: 0.1, labelSmoothing: 0, seed: 1,
  };
  const common = { task, train: { split: 'train' }, eval: { split: 'dev' }, data: { maxExamples: 6000 }, maxEvalExamples: 100, evaluation: { beam: 1, lengthPenalty: 1 }, log };
  const t = await trainGenerationTeacher({ ...common, outDir: path.join(outDir, 'teacher'), config: base });
  // The student shares the teacher's tokenizer (same vocabulary ids): copy it in before its own training starts.
  fs.mkdirSync(path.join(outDir, 'student'), { recursive: true });
  fs.copyFileSync(t.tokenizer, path.join(outDir, 'student', 'tokenizer.json'));
  const s = await trainGenerationTeacher({ ...common, outDir: path.join(outDir, 'student'), config: { ...base, layers: 1, seed: 2 } });
  const teacher = loadGenerationModel(t.onnx);
  const trained = loadGenerationModel(s.onnx);
  const copied = { model: { ...teacher.model, config: { ...teacher.model.config, encoderLayers: 1, decoderLayers: 1 } } as GenerationConfig, values: initialGenerationStudent(teacher, 1, 'copy', 3) };

  const dev = loadSeq2Seq(task, { split: 'dev' }, { maxExamples: 300 }, true);
  const rows = await encodeSeq2Seq(teacher.tokenizer, dev.examples, SIZES.maxLength, SIZES.maxTargetLength);
  const batches = makeBatches(rows, { batchSize: 32, buckets: lengthBuckets(SIZES.maxLength), targetBuckets: lengthBuckets(SIZES.maxTargetLength), shuffle: false });
  const V = teacher.model.config.vocabSize;
  if (teacher.model.arch !== 'bart') throw new Error('the G2P teacher is an encoder-decoder');
  const start = teacher.model.config.decoderStartId;
  const logitsOf = async (model: GenerationConfig, values: Map<string, Float32Array>): Promise<Float32Array> => {
    const out: number[] = [];
    for (const b of batches) {
      const session = await createSession(fullInferenceModel(model, b.batchSize, b.length, b.targetLength!, { kind: 'initializers', values }));
      const logits = (await session.run(seq2seqFeeds(b, start, false))).logits.data as Float32Array;
      const T = b.targetLength!;
      for (let r = 0; r < b.size; r++) for (let p = 0; p < T; p++) if (b.targetMask![r * T + p] !== 0n) out.push(...logits.subarray((r * T + p) * V, (r * T + p + 1) * V));
      await session.release();
    }
    return Float32Array.from(out);
  };
  const tl = await logitsOf(teacher.model, teacher.values);
  const positions = tl.length / V;
  const ks = (opts.ks ?? [1, 2, 4, 8, 16, 32, 64]).filter((k) => k < V).concat(V);
  const pairs = [
    { student: '1+1 layers, weight copy, untrained', gaps: topKGap(tl, await logitsOf(copied.model, copied.values), positions, V, ks) },
    { student: '1+1 layers, trained on the same data', gaps: topKGap(tl, await logitsOf(trained.model, trained.values), positions, V, ks) },
  ];
  return { task, vocabSize: V, positions, pairs };
}

export function formatKlGap(r: KlGapReport): string {
  const lines = [`top-k vs full prediction KL on ${r.task} (vocabulary ${r.vocabSize}), ${r.positions} teacher-forced dev target positions, τ = 1`];
  for (const p of r.pairs) {
    lines.push('', `student: ${p.student}; full KL ${p.gaps[0].fullKl.toFixed(4)} nats/token`, '| k | top-k KL | gap vs full | teacher mass outside top-k |', '| ---: | ---: | ---: | ---: |');
    for (const g of p.gaps) lines.push(`| ${g.k} | ${g.topKKl.toFixed(4)} | ${(g.relativeGap * 100).toFixed(2)}% | ${(g.restMass * 100).toFixed(3)}% |`);
  }
  return lines.join('\n');
}
