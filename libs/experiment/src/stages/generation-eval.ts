// Scoring a generation model's parameters on an evaluation split: beam-search BLEU (and phoneme error rate for G2P),
// multiple-choice accuracy by ranking continuations by log-likelihood (plus length-normalized and generated-answer
// exact match). Metrics are on the paper's scale: percentages and BLEU 0-100.
import { MultipleChoiceExample, Seq2SeqExample, Tokenizer, makeBatches } from '@strata/data';
import { corpusBleu, meanExactMatch, phonemeErrorRate } from '@strata/metrics';
import { BartGenerator, ContinuationScorer, Qwen3Generator } from '@strata/train';
import { lengthBuckets } from './common';
import { DataOptions, SplitRef, continuationOf, describeSplit, encodeCausal, encodeSeq2Seq, generationArchitecture, loadGenerationData, promptOf } from './generation-data';
import { GenerationConfig, loadGenerationModel, paramSpecs } from './generation-model';

export interface GenerationEvalOptions {
  task: string;
  model: GenerationConfig;
  values: ReadonlyMap<string, Float32Array>;
  tokenizer: Tokenizer;
  /** Source (seq2seq) or whole-sequence (causal) length limit. */
  maxLength: number;
  /** Seq2seq: most target tokens, EOS included (also the generation limit). */
  maxTargetLength: number;
  /** Causal LM: most tokens of a generated answer (CommonsenseQA exact match). */
  maxAnswerLength?: number;
  beam: number;
  lengthPenalty: number;
  batchSize: number;
}

export interface GenerationEvalResult {
  metrics: Record<string, number>;
  /** The first predictions, for the record (predictions.jsonl). */
  samples: { id: string; prediction: string; references: string[] }[];
}

/** Reference streams for corpus BLEU: stream j holds every input's j-th reference (or nothing). */
function referenceStreams(references: readonly (readonly string[])[]): (string | undefined)[][] {
  const width = Math.max(...references.map((r) => r.length));
  return Array.from({ length: width }, (_, j) => references.map((r) => r[j]));
}

export async function evaluateSeq2Seq(o: GenerationEvalOptions, examples: readonly Seq2SeqExample[]): Promise<GenerationEvalResult> {
  if (o.model.arch !== 'bart') throw new Error('evaluateSeq2Seq needs an encoder-decoder model');
  const rows = await encodeSeq2Seq(o.tokenizer, [...examples], o.maxLength, o.maxTargetLength);
  const batches = makeBatches(rows, { batchSize: o.batchSize, buckets: lengthBuckets(o.maxLength), targetBuckets: lengthBuckets(o.maxTargetLength), shuffle: false });
  const gen = new BartGenerator(o.model.config, paramSpecs(o.model), o.values, { beam: o.beam, maxLength: o.maxTargetLength, lengthPenalty: o.lengthPenalty });
  const tokens: number[][] = new Array(rows.length);
  try {
    for (const b of batches) {
      const hyps = await gen.generate(b);
      hyps.forEach((h, r) => (tokens[b.rowIndex[r]] = h.tokens));
    }
  } finally {
    await gen.release();
  }
  const hypotheses = await Promise.all(tokens.map((t) => o.tokenizer.decode(t)));
  const references = examples.map((e) => (e.references ?? [e.target]).filter((r) => r.trim() !== ''));
  const metrics: Record<string, number> = { bleu: corpusBleu(hypotheses, referenceStreams(references)).score };
  if (o.task === 'cmudict-g2p') {
    const per = phonemeErrorRate(hypotheses, references);
    metrics.per = per.rate * 100;
    metrics.word_accuracy = (per.exact / hypotheses.length) * 100;
  }
  return { metrics, samples: examples.slice(0, 50).map((e, i) => ({ id: e.id, prediction: hypotheses[i], references: references[i] })) };
}

/**
 * Nats per token of the gold continuations, over all examples (total NLL / total tokens). Models trained from scratch
 * rank these tasks' choices at chance, where accuracy cannot tell students apart; how well each one predicts the
 * gold answer still can.
 */
export function goldNll(scores: readonly { logProb: number; tokens: number }[], owner: readonly { example: number; choice: number }[], labels: readonly number[]): number {
  let nll = 0;
  let tokens = 0;
  owner.forEach((w, row) => {
    if (w.choice !== labels[w.example]) return;
    nll -= scores[row].logProb;
    tokens += scores[row].tokens;
  });
  if (tokens === 0) throw new Error('goldNll: no gold continuation has a scored token');
  return nll / tokens;
}

/**
 * Accuracy within each source of a multi-source task (HellaSwag's ActivityNet and WikiHow examples), as
 * `accuracy_<domain>`: a model at chance on one source and above it on the other shows only here.
 */
export function accuracyByDomain(examples: readonly MultipleChoiceExample[], picks: readonly number[]): Record<string, number> {
  const domains = [...new Set(examples.map((e) => e.domain).filter((d): d is string => d !== undefined))].sort();
  if (domains.length < 2) return {};
  return Object.fromEntries(
    domains.map((d) => {
      const mine = examples.flatMap((e, i) => (e.domain === d ? [i] : []));
      return [`accuracy_${d}`, (mine.filter((i) => picks[i] === examples[i].label).length / mine.length) * 100];
    }),
  );
}

export async function evaluateMultipleChoice(o: GenerationEvalOptions, examples: readonly MultipleChoiceExample[]): Promise<GenerationEvalResult> {
  if (o.model.arch !== 'qwen3') throw new Error('evaluateMultipleChoice needs a decoder-only model');
  const cfg = o.model.config;
  const prompts: string[] = [];
  const continuations: string[] = [];
  const owner: { example: number; choice: number }[] = [];
  examples.forEach((e, i) =>
    e.choices.forEach((c, j) => {
      prompts.push(promptOf(o.task, e));
      continuations.push(continuationOf(c));
      owner.push({ example: i, choice: j });
    }),
  );
  const rows = await encodeCausal(o.tokenizer, prompts, continuations, o.maxLength);
  const batches = makeBatches(rows, { batchSize: o.batchSize, buckets: lengthBuckets(o.maxLength), shuffle: false });
  const specs = paramSpecs(o.model);
  const scorer = new ContinuationScorer(cfg, o.values, new Map(specs.map((p) => [p.name, p.shape])));
  const scores = new Array<{ logProb: number; tokens: number }>(rows.length);
  try {
    for (const b of batches) (await scorer.score(b)).forEach((s, r) => (scores[b.rowIndex[r]] = s));
  } finally {
    await scorer.release();
  }
  const best = (key: (row: number) => number) => {
    const picks = examples.map(() => ({ choice: -1, value: -Infinity }));
    owner.forEach((w, row) => {
      const v = key(row);
      if (v > picks[w.example].value) picks[w.example] = { choice: w.choice, value: v };
    });
    return picks.map((p) => p.choice);
  };
  const accuracyOf = (picks: number[]) => (picks.filter((p, i) => p === examples[i].label).length / examples.length) * 100;
  const raw = best((r) => scores[r].logProb);
  const metrics: Record<string, number> = { accuracy: accuracyOf(raw) };
  metrics.gold_nll = goldNll(scores, owner, examples.map((e) => e.label));
  // lm-eval-harness's acc_norm: log-likelihood divided by the continuation's length in characters.
  if (o.task === 'hellaswag') metrics.accuracy_norm = accuracyOf(best((r) => scores[r].logProb / Math.max(1, rows[r].continuationChars)));
  Object.assign(metrics, accuracyByDomain(examples, raw));
  let samples = examples.slice(0, 50).map((e, i) => ({ id: e.id, prediction: e.choices[raw[i]] ?? '', references: [e.choices[e.label]] }));
  if (o.task === 'commonsenseqa') {
    const answerLength = o.maxAnswerLength ?? 12;
    const promptRows = await encodeCausal(o.tokenizer, examples.map((e) => promptOf(o.task, e)), examples.map(() => ''), o.maxLength - answerLength);
    // encodeCausal appended EOS as the (empty) continuation: drop it to get BOS + prompt.
    const promptIds = promptRows.map((r) => r.inputIds.slice(0, -1));
    const gen = new Qwen3Generator(cfg, specs, o.values, { beam: o.beam, maxLength: answerLength, lengthPenalty: o.lengthPenalty, maxPromptLength: o.maxLength - answerLength });
    const answers: string[] = [];
    try {
      for (let i = 0; i < promptIds.length; i += o.batchSize) {
        const chunk = promptIds.slice(i, i + o.batchSize);
        // Pad the last chunk to a full batch so one session serves every chunk.
        while (chunk.length < o.batchSize) chunk.push(promptIds[0]);
        const hyps = await gen.generate(chunk);
        for (const h of hyps.slice(0, Math.min(o.batchSize, promptIds.length - i))) answers.push(await o.tokenizer.decode(h.tokens));
      }
    } finally {
      await gen.release();
    }
    metrics.exact_match = meanExactMatch(answers, examples.map((e) => [e.choices[e.label]])) * 100;
    samples = samples.map((s, i) => ({ ...s, prediction: `${s.prediction} | generated: ${answers[i]}` }));
  }
  return { metrics, samples };
}

export function evaluateGeneration(o: GenerationEvalOptions, examples: readonly Seq2SeqExample[] | readonly MultipleChoiceExample[]): Promise<GenerationEvalResult> {
  return o.model.arch === 'bart' ? evaluateSeq2Seq(o, examples as Seq2SeqExample[]) : evaluateMultipleChoice(o, examples as MultipleChoiceExample[]);
}

export interface EvaluateGenerationModelOptions {
  onnx: string;
  /** Default: tokenizer.json next to the model. */
  tokenizerPath?: string;
  task: string;
  /** The split, or one part of a carved split (HellaSwag's test part). */
  ref: SplitRef;
  data?: DataOptions;
  /** Source / whole-sequence and target limits; default the model's position table (an experiment's own limits reproduce its numbers). */
  maxLength?: number;
  maxTargetLength?: number;
  beam?: number;
  lengthPenalty?: number;
  maxAnswerLength?: number;
  batchSize?: number;
}

/** Scores a Strata-exported encoder-decoder or decoder-only .onnx on a task's split (what `strata eval` runs for generation tasks). */
export async function evaluateGenerationModel(o: EvaluateGenerationModelOptions): Promise<GenerationEvalResult & { count: number }> {
  const m = loadGenerationModel(o.onnx, o.tokenizerPath);
  const want = generationArchitecture(o.task) === 'encoder-decoder' ? 'bart' : 'qwen3';
  if (m.model.arch !== want) throw new Error(`${o.onnx}: task '${o.task}' needs a '${want}' model; this one is '${m.model.arch}'`);
  const examples = loadGenerationData(o.task, o.ref, o.data ?? {}, true).examples;
  if (examples.length === 0) throw new Error(`task '${o.task}' ${describeSplit(o.ref)} has no examples`);
  const positions = m.model.config.maxPositions;
  for (const [field, v] of [['maxLength', o.maxLength], ['maxTargetLength', o.maxTargetLength]] as const)
    if (v !== undefined && v > positions) throw new Error(`${field} ${v} exceeds the model's ${positions} positions (${o.onnx})`);
  const result = await evaluateGeneration(
    {
      task: o.task, model: m.model, values: m.values, tokenizer: m.tokenizer, maxLength: o.maxLength ?? positions, maxTargetLength: o.maxTargetLength ?? positions,
      beam: o.beam ?? 4, lengthPenalty: o.lengthPenalty ?? 1, maxAnswerLength: o.maxAnswerLength, batchSize: o.batchSize ?? 32,
    },
    examples as never,
  );
  return { ...result, count: examples.length };
}
