import { Attribute, DataType, GraphBuilder, Node, attr } from '@strata/onnx';

/** What a gradient rule sees: the forward node, the gradients arriving at its outputs, and a builder to emit into. */
export class GradContext {
  constructor(
    readonly g: GraphBuilder,
    readonly node: Node,
    private readonly outputGrads: (string | undefined)[],
    private readonly wanted: boolean[],
  ) {}

  input(i: number): string {
    return this.node.inputs[i];
  }

  output(i = 0): string {
    return this.node.outputs[i];
  }

  /** The gradient arriving at output i; undefined when nothing downstream uses it. */
  gy(i = 0): string | undefined {
    return this.outputGrads[i];
  }

  /** Gradient at output i, zeros when nothing arrived (rules whose math needs every output's gradient). */
  gyOrZeros(i: number): string {
    return this.outputGrads[i] ?? this.zeros(this.output(i));
  }

  /** Whether input i lies on a path from a parameter (only those get gradients). */
  wants(i: number): boolean {
    return this.wanted[i] ?? false;
  }

  shape(name: string): number[] {
    return this.g.shapeOf(name);
  }

  dtype(name: string): DataType {
    return this.g.dtypeOf(name);
  }

  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    return this.g.op(opType, inputs, attributes, { name: this.g.fresh(`grad/${this.node.name}/${opType}`) });
  }

  /** A scalar constant with the float type of `like`. */
  scalar(value: number, like: string): string {
    return this.g.scalar(value, this.dtype(like));
  }

  ints(values: number[]): string {
    return this.g.ints(values);
  }

  zeros(like: string): string {
    const dtype = this.dtype(like);
    const value = { name: '', dtype, dims: [1], data: dtype === DataType.DOUBLE ? new Float64Array(1) : new Float32Array(1) };
    return this.op('ConstantOfShape', [this.ints(this.shape(like))], { value: attr.t(value) });
  }

  /** Reshapes `grad` to `target`'s shape (no node when it already has it). */
  reshapeTo(grad: string, target: string): string {
    const want = this.shape(target);
    const have = this.shape(grad);
    if (want.length === have.length && want.every((d, i) => d === have[i])) return grad;
    return this.op('Reshape', [grad, this.ints(want)]);
  }

  /**
   * Sums `grad` over the axes along which `target` was broadcast (onnx-autodiff.md §2), then reshapes to
   * `target`'s shape. Never emits ReduceSum with empty axes (that would reduce everything).
   */
  unbroadcast(grad: string, target: string): string {
    const gs = this.shape(grad);
    const ts = this.shape(target);
    const offset = gs.length - ts.length;
    const axes: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      const t = i < offset ? undefined : ts[i - offset];
      if (t === undefined || (t === 1 && gs[i] !== 1)) axes.push(i);
    }
    const summed = axes.length ? this.op('ReduceSum', [grad, this.ints(axes)], { keepdims: attr.i(1) }) : grad;
    return this.reshapeTo(summed, target);
  }
}

export type GradientRule = (ctx: GradContext) => (string | undefined)[];
