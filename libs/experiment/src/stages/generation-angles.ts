// Angle analysis (METHOD.md §5) for encoder-decoder and decoder-only students, one stack at a time: hidden states of
// teacher and student, teacher-forced on the evaluation split's first references (causal LMs: prompt + gold answer).
import { makeBatches } from '@strata/data';
import { AngleAccumulator, type StudentLayerAngles } from '@strata/kd';
import { createSession, ort } from '@strata/onnx';
import { causalFeeds, seq2seqFeeds } from '@strata/train';
import { DataOptions, SplitRef, loadGenerationData } from './generation-data';
import { GenerationConfig, LoadedGenerationModel, fullInferenceModel, stacksOf } from './generation-model';
import { generationBatchOptions, trainingRows } from './generation-teacher';
import { projectRows, readProjections } from './student-width';

export interface GenerationAnglesOptions {
  teacher: LoadedGenerationModel;
  student: { model: GenerationConfig; values: Map<string, Float32Array> };
  /** The student's projections.safetensors: needed when it is narrower than the teacher (its layers are compared through them). */
  projections?: string;
  task: string;
  eval: SplitRef;
  data: DataOptions;
  examples: number;
  maxLength: number;
  maxTargetLength: number;
}

/**
 * Per stack (`encoder`, `decoder`): per student layer, mean cosines over teacher layers 1..L_t. A narrower student's
 * layers are seen in the teacher's space through the projections its hidden loss trained; layers without one are
 * left out.
 */
export async function analyzeGenerationAngles(o: GenerationAnglesOptions): Promise<Record<string, StudentLayerAngles[]>> {
  const data = loadGenerationData(o.task, o.eval, { ...o.data, maxExamples: o.examples }, true);
  const rows = await trainingRows(o.task, o.teacher.tokenizer, data, o.maxLength, o.maxTargetLength);
  const batches = makeBatches(rows, { ...generationBatchOptions(o.task, 16, o.maxLength, o.maxTargetLength, 0), shuffle: false });
  const teacherStacks = stacksOf(o.teacher.model);
  const studentStacks = stacksOf(o.student.model);
  const narrow = o.student.model.config.hidden !== o.teacher.model.config.hidden;
  const projections = studentStacks.map((st) => (narrow ? readProjections(o.projections ?? '', `${st.name}.`) : undefined));
  if (narrow && !projections.some((p) => p?.size))
    throw new Error(`the student is ${o.student.model.config.hidden} wide, the teacher ${o.teacher.model.config.hidden}, and no projections were found${o.projections ? ` in ${o.projections}` : ''} to compare them through`);
  const layersOf = studentStacks.map((st, i) => Array.from({ length: st.layers }, (_, k) => k + 1).filter((l) => !narrow || projections[i]?.has(l)));
  const acc = teacherStacks.map((t, i) => new AngleAccumulator(layersOf[i], Array.from({ length: t.layers }, (_, k) => k + 1)));
  const sessions = new Map<string, [ort.InferenceSession, ort.InferenceSession]>();
  for (const b of batches) {
    const T = b.targetLength ?? b.length;
    const key = `${b.batchSize}x${b.length}x${T}`;
    if (!sessions.has(key))
      sessions.set(key, [
        await createSession(fullInferenceModel(o.teacher.model, b.batchSize, b.length, T, { kind: 'initializers', values: o.teacher.values })),
        await createSession(fullInferenceModel(o.student.model, b.batchSize, b.length, T, { kind: 'initializers', values: o.student.values })),
      ]);
    const [ts, ss] = sessions.get(key)!;
    const feeds = o.teacher.model.arch === 'bart' ? seq2seqFeeds(b, o.teacher.model.config.decoderStartId, false) : causalFeeds(b, false);
    const [to, so] = [await ts.run(feeds), await ss.run(feeds)];
    teacherStacks.forEach((stack, i) => {
      const isEncoder = stack.name === 'encoder';
      const L = isEncoder || o.teacher.model.arch !== 'bart' ? b.length : T;
      const source = isEncoder || o.teacher.model.arch !== 'bart' ? b.attentionMask : b.targetMask!;
      // Padding rows hold one masked-in token in @strata/data batches: mask them out entirely.
      const mask = new BigInt64Array(source.length);
      mask.set(source.subarray(0, b.size * L));
      acc[i].add({
        batchSize: b.batchSize, seqLen: L, hiddenSize: o.teacher.model.config.hidden, attentionMask: mask,
        student: layersOf[i].map((l) => {
          const x = so[`${studentStacks[i].states}.${l}`].data as Float32Array;
          return narrow ? projectRows(x, projections[i]!.get(l)!) : x;
        }),
        teacher: Array.from({ length: stack.layers }, (_, k) => to[`${stack.states}.${k + 1}`].data as Float32Array),
      });
    });
  }
  for (const [a, b] of sessions.values()) {
    await a.release();
    await b.release();
  }
  return Object.fromEntries(teacherStacks.map((s, i) => [s.name, acc[i].result()]));
}
