import { DataType, GraphBuilder, Tensor, numel } from '@strata/onnx';

/** How a parameter starts: BERT's init (normal std 0.02 for weights, LayerNorm 1/0, biases 0). */
export type ParamInit = 'normal' | 'zeros' | 'ones';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
  /** Decoupled weight decay applies (not to biases, LayerNorm gains or embeddings' norms). */
  decay: boolean;
}

/**
 * Where a builder's parameters come from: graph inputs (training graphs, so one session serves every step)
 * or initializers holding trained values (a standalone exported model).
 */
export type ParamSource = { kind: 'inputs' } | { kind: 'initializers'; values: ReadonlyMap<string, Float32Array | Float64Array> };

export class ParamDeclarer {
  readonly specs: ParamSpec[] = [];
  constructor(
    private readonly g: GraphBuilder,
    private readonly dtype: DataType,
    private readonly source: ParamSource,
  ) {}

  declare(name: string, shape: number[], init: ParamInit, decay = init === 'normal'): string {
    this.specs.push({ name, shape, init, decay });
    if (this.source.kind === 'inputs') return this.g.input(name, this.dtype, shape);
    const values = this.source.values.get(name);
    if (!values) throw new Error(`no trained value for parameter '${name}'`);
    if (values.length !== numel(shape)) throw new Error(`parameter '${name}' has ${values.length} values, shape [${shape}] needs ${numel(shape)}`);
    const data = this.dtype === DataType.DOUBLE ? Float64Array.from(values) : Float32Array.from(values);
    const t: Tensor = { name, dtype: this.dtype, dims: shape, data };
    return this.g.initializer(t);
  }
}

/** Seeded normal(0, std) via Box-Muller over a uniform source. */
export function initParams(specs: ParamSpec[], uniform: () => number, std = 0.02): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of specs) {
    const a = new Float32Array(numel(s.shape));
    if (s.init === 'ones') a.fill(1);
    else if (s.init === 'normal')
      for (let i = 0; i < a.length; i += 2) {
        const u1 = Math.max(uniform(), 1e-12);
        const u2 = uniform();
        const r = Math.sqrt(-2 * Math.log(u1)) * std;
        a[i] = r * Math.cos(2 * Math.PI * u2);
        if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * u2);
      }
    out.set(s.name, a);
  }
  return out;
}
