// Building blocks shared by the architectures: dense layers on 2-D activations, norms, activations, fed dropout.
import { DataType, GraphBuilder, attr } from '@strata/onnx';
import { ParamDeclarer } from './params';

export type Activation = 'gelu' | 'gelu_tanh' | 'relu';

/** A dropout site whose keep-mask (0 or 1/(1-rate)) is fed as an input, so training is reproducible. */
export interface DropoutSite {
  name: string;
  shape: number[];
  rate: number;
}

/**
 * An embedding table read by one Gather: `output` = Gather(`param`, `ids`). A trainer may take this parameter's
 * gradient as the rows of d`output` summed by id instead of as a dense table-sized tensor.
 */
export interface TableLookup {
  param: string;
  ids: string;
  output: string;
}

export class Blocks {
  readonly dropoutSites: DropoutSite[] = [];
  constructor(
    readonly g: GraphBuilder,
    readonly p: ParamDeclarer,
    readonly dtype: DataType,
    /** Rates below or equal to 0, or an inference graph, make dropout vanish from the graph. */
    readonly training: boolean,
  ) {}

  scalar(v: number): string {
    return this.g.scalar(v, this.dtype);
  }

  /** Hugging Face Linear on [N, in] rows: weight stored [out, in], y = x·Wᵀ + b, as one Gemm. */
  linear(x: string, prefix: string, inFeatures: number, outFeatures: number, bias = true): string {
    const w = this.p.declare(`${prefix}.weight`, [outFeatures, inFeatures], 'normal');
    const inputs = [x, w];
    if (bias) inputs.push(this.p.declare(`${prefix}.bias`, [outFeatures], 'zeros'));
    return this.g.op('Gemm', inputs, { transB: attr.i(1) });
  }

  layerNorm(x: string, prefix: string, width: number, eps: number): string {
    const w = this.p.declare(`${prefix}.weight`, [width], 'ones', false);
    const b = this.p.declare(`${prefix}.bias`, [width], 'zeros', false);
    return this.g.op('LayerNormalization', [x, w, b], { axis: attr.i(-1), epsilon: attr.f(eps) });
  }

  /**
   * RMSNorm over the last axis (T5, Llama, Qwen): x / √(mean(x²) + ε) · γ, built from primitives (the standard
   * RMSNormalization op is opset 23, outside our range). Weight `name` [width], initialized to ones.
   */
  rmsNorm(x: string, name: string, width: number, eps: number): string {
    const { g } = this;
    const w = this.p.declare(name, [width], 'ones', false);
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x]), g.ints([-1])], { keepdims: attr.i(1) });
    const r = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, this.scalar(eps)])])]);
    return g.op('Mul', [g.op('Mul', [x, r]), w]);
  }

  /** SiLU (swish): x·σ(x), the gate of SwiGLU. */
  silu(x: string): string {
    return this.g.op('Mul', [x, this.g.op('Sigmoid', [x])]);
  }

  activation(x: string, kind: Activation): string {
    const { g } = this;
    if (kind === 'relu') return g.op('Relu', [x]);
    if (kind === 'gelu') {
      // Exact GELU: 0.5·x·(1 + erf(x/√2)).
      const erf = g.op('Erf', [g.op('Mul', [x, this.scalar(Math.SQRT1_2)])]);
      return g.op('Mul', [g.op('Mul', [x, this.scalar(0.5)]), g.op('Add', [erf, this.scalar(1)])]);
    }
    // tanh approximation, for float64 checks (ORT has no float64 Erf kernel).
    const inner = g.op('Mul', [this.scalar(Math.sqrt(2 / Math.PI)), g.op('Add', [x, g.op('Mul', [this.scalar(0.044715), g.op('Pow', [x, this.scalar(3)])])])]);
    return g.op('Mul', [g.op('Mul', [x, this.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), this.scalar(1)])]);
  }

  dropout(x: string, rate: number, site: string): string {
    if (!this.training || rate <= 0) return x;
    const shape = this.g.shapeOf(x);
    const name = this.g.input(`dropout_mask.${site}`, this.dtype, shape);
    this.dropoutSites.push({ name, shape, rate });
    return this.g.op('Mul', [x, name]);
  }
}
