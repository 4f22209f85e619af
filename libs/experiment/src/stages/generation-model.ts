// One view of the two generation architectures for the stages: configs, parameter specs, stacks, exported teachers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@strata/data';
import { bartToHfConfig, qwen3ToHfConfig } from '@strata/hub';
import { type LayerStack } from '@strata/kd';
import { Model, floatValues, readModel } from '@strata/onnx';
import { BART_DEFAULTS, BartConfig, ParamSource, ParamSpec, QWEN3_DEFAULTS, Qwen3Config, bartParamSpecs, qwen3ParamSpecs } from '@strata/nn';
import { bartExportModel, bartInferenceModel, qwen3ExportModel, qwen3InferenceModel } from '@strata/train';
import type { GenerationArchitecture } from './generation-data';
import { studentShape, type StudentWidth } from './student-width';

export type GenerationConfig = { arch: 'bart'; config: BartConfig } | { arch: 'qwen3'; config: Qwen3Config };

/** A layer stack of a generation model: its hidden-state output prefix and which mask covers its tokens. */
export interface StackInfo {
  name: 'encoder' | 'decoder';
  layers: number;
  /** Output names `<prefix>.<i>` of the full inference graph. */
  states: string;
  /** Parameter name prefix up to the layer number. */
  params: string;
}

export function architectureOf(c: GenerationConfig): GenerationArchitecture {
  return c.arch === 'bart' ? 'encoder-decoder' : 'decoder';
}

export function stacksOf(c: GenerationConfig): StackInfo[] {
  if (c.arch === 'bart')
    return [
      { name: 'encoder', layers: c.config.encoderLayers, states: 'encoder_hidden_states', params: 'model.encoder.layers.' },
      { name: 'decoder', layers: c.config.decoderLayers, states: 'decoder_hidden_states', params: 'model.decoder.layers.' },
    ];
  return [{ name: 'decoder', layers: c.config.layers, states: 'hidden_states', params: 'model.layers.' }];
}

export function paramSpecs(c: GenerationConfig): ParamSpec[] {
  return c.arch === 'bart' ? bartParamSpecs(c.config) : qwen3ParamSpecs(c.config);
}

export function hiddenSize(c: GenerationConfig): number {
  return c.config.hidden;
}

export function depthOf(c: GenerationConfig): number {
  return c.arch === 'bart' ? c.config.encoderLayers : c.config.layers;
}

/** The same architecture with `depth` layers per stack (the student). */
export function withDepth(c: GenerationConfig, depth: number): GenerationConfig {
  return c.arch === 'bart' ? { arch: 'bart', config: { ...c.config, encoderLayers: depth, decoderLayers: depth } } : { arch: 'qwen3', config: { ...c.config, layers: depth } };
}

/**
 * The same architecture at the student's width (students.hidden / heads / intermediate; studentShape's defaults).
 * Qwen3 keeps its head size (head_dim is not tied to the width there); BART's heads shrink with the width.
 */
export function withWidth(c: GenerationConfig, width: StudentWidth = {}): GenerationConfig {
  if (c.arch === 'bart') {
    const s = studentShape({ hidden: c.config.hidden, heads: c.config.heads, intermediate: c.config.ffn }, width);
    return { arch: 'bart', config: { ...c.config, hidden: s.hidden, heads: s.heads, ffn: s.intermediate } };
  }
  const s = studentShape(c.config, width);
  const kvHeads = s.heads === c.config.heads ? c.config.kvHeads : Math.max(1, Math.round((c.config.kvHeads * s.heads) / c.config.heads));
  if (s.heads % kvHeads !== 0) throw new Error(`students.heads ${s.heads} is not a multiple of the key/value heads ${kvHeads} (the teacher's ${c.config.kvHeads} scaled to it)`);
  return { arch: 'qwen3', config: { ...c.config, hidden: s.hidden, heads: s.heads, kvHeads, intermediate: s.intermediate } };
}

/** Weight-copy stacks (METHOD.md §3) from a teacher to a student of `depth` layers per stack. */
export function copyStacks(teacher: GenerationConfig, depth: number): LayerStack[] {
  return stacksOf(teacher).map((s) => ({ prefix: s.params, teacherLayers: s.layers, studentLayers: depth }));
}

/** What the teacher stage needs to build a config: sizes from the manifest, special ids from the tokenizer. */
export interface GenerationSizes {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads?: number;
  headDim?: number;
  intermediate: number;
  maxPositions: number;
  dropout: number;
  /** Encoder-decoder: pre-LN (mBART layout). */
  preLayerNorm?: boolean;
}

export function generationConfig(arch: GenerationArchitecture, s: GenerationSizes, tokenizer: Tokenizer): GenerationConfig {
  const ids = tokenizer.specialIds;
  const pad = ids.pad ?? 0;
  const bos = ids.cls ?? ids.bos;
  const eos = ids.eos;
  if (bos === undefined || eos === undefined) throw new Error('the tokenizer has no [CLS]/<s> or [SEP]/</s> token for BOS/EOS');
  if (arch === 'encoder-decoder') {
    return {
      arch: 'bart',
      config: {
        ...BART_DEFAULTS, vocabSize: tokenizer.vocabSize, hidden: s.hidden, encoderLayers: s.layers, decoderLayers: s.layers, heads: s.heads, ffn: s.intermediate,
        maxPositions: s.maxPositions, dropout: s.dropout, attentionDropout: 0, normalizeBefore: s.preLayerNorm ?? false, padId: pad, decoderStartId: bos, eosId: eos,
      },
    };
  }
  const headDim = s.headDim ?? s.hidden / s.heads;
  return {
    arch: 'qwen3',
    config: {
      ...QWEN3_DEFAULTS, vocabSize: tokenizer.vocabSize, hidden: s.hidden, layers: s.layers, heads: s.heads, kvHeads: s.kvHeads ?? Math.max(1, s.heads / 2), headDim,
      intermediate: s.intermediate, maxPositions: s.maxPositions, hiddenDropout: s.dropout, padId: pad, bosId: bos, eosId: eos,
    },
  };
}

/** Forward-only model with logits and every hidden state of a batch shape (`tgtLen` unused by decoder-only models). */
export function fullInferenceModel(c: GenerationConfig, batch: number, srcLen: number, tgtLen: number, params: ParamSource = { kind: 'inputs' }): Model {
  return c.arch === 'bart' ? bartInferenceModel(c.config, batch, srcLen, tgtLen, params) : qwen3InferenceModel(c.config, batch, srcLen, params);
}

/** The published form of a model (teacher.onnx, student.onnx): every output, any batch and any lengths up to maxPositions. */
export function generationExportModel(c: GenerationConfig, params: ParamSource): Model {
  return c.arch === 'bart' ? bartExportModel(c.config, params) : qwen3ExportModel(c.config, params);
}

/** The Hugging Face config.json written beside an export; an encoder-decoder's BOS id comes from its tokenizer. */
export function generationHfConfig(c: GenerationConfig, tokenizer: Tokenizer): Record<string, unknown> {
  if (c.arch === 'qwen3') return qwen3ToHfConfig(c.config);
  const ids = tokenizer.specialIds;
  return bartToHfConfig(c.config, ids.cls ?? ids.bos ?? c.config.decoderStartId);
}

export interface LoadedGenerationModel {
  onnx: string;
  model: GenerationConfig;
  values: Map<string, Float32Array>;
  tokenizer: Tokenizer;
  tokenizerPath: string;
}

/** Reads an encoder-decoder or decoder-only model exported by Strata: architecture and config from its metadata. */
export function loadGenerationModel(onnx: string, tokenizerPath = path.join(path.dirname(onnx), 'tokenizer.json')): LoadedGenerationModel {
  const m = readModel(onnx);
  const arch = m.metadata['strata.architecture'];
  const raw = m.metadata['strata.config'];
  if ((arch !== 'bart' && arch !== 'qwen3') || !raw) throw new Error(`${onnx}: metadata 'strata.architecture' is '${arch ?? ''}'; expected a Strata-exported 'bart' or 'qwen3' model`);
  const model = { arch, config: JSON.parse(raw) } as GenerationConfig;
  const byName = new Map(m.graph.initializers.map((t) => [t.name, t]));
  const values = new Map<string, Float32Array>();
  for (const p of paramSpecs(model)) {
    const t = byName.get(p.name);
    if (!t) throw new Error(`${onnx}: parameter '${p.name}' is missing`);
    values.set(p.name, Float32Array.from(floatValues(t)));
  }
  if (!fs.existsSync(tokenizerPath)) throw new Error(`tokenizer '${tokenizerPath}' not found (it is written next to teacher.onnx by the teacher stage)`);
  return { onnx, model, values, tokenizer: Tokenizer.fromFile(tokenizerPath), tokenizerPath };
}
