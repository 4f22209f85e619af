// Shared by the model tests: random parameters, feeding them, and a float64 gradient check of a whole model graph.
import { GradCheckInput, checkGradients, seededRandom, weightedSum } from '@strata/autodiff';
import { DataType, GraphBuilder, createSession, ort } from '@strata/onnx';
import type { DropoutSite } from './blocks';
import { initParams, type ParamSpec } from './params';

/** Parameters drawn with a larger std than training init, so tiny models have non-trivial activations. */
export function randomParams(specs: ParamSpec[], seed: number, std = 0.3): Map<string, Float32Array> {
  const rand = seededRandom(seed);
  const values = initParams(specs, rand, std);
  // Norm gains and biases get some spread too, so their gradients are not trivially symmetric.
  for (const s of specs) if (s.init !== 'normal') values.set(s.name, values.get(s.name)!.map((v) => v + (rand() - 0.5) * 0.4));
  return values;
}

export function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/** Runs `g`'s model once, feeding every parameter input from `params`; returns the requested outputs. */
export async function runWithParams(g: GraphBuilder, outputs: string[], feeds: Record<string, ort.Tensor>, params: Map<string, Float32Array>): Promise<Record<string, ort.Tensor>> {
  for (const o of outputs) if (!g.outputs.some((x) => x.name === o)) g.output(o);
  const session = await createSession(g.build(), { threads: 1 });
  const all: Record<string, ort.Tensor> = { ...feeds };
  for (const input of session.inputNames) {
    if (input in all) continue;
    const p = params.get(input);
    if (!p) throw new Error(`no value for input '${input}'`);
    all[input] = new ort.Tensor('float32', p, g.shapeOf(input));
  }
  const out = await session.run(all, outputs);
  await session.release();
  return out;
}

/**
 * Float64 finite-difference check of a whole model: replays the nodes of a float64 build inside the checker's
 * builder, with integer inputs and fed dropout masks as given, and every parameter differentiated.
 */
export async function checkModelGradients(
  built: { g: GraphBuilder; params: ParamSpec[]; dropoutSites: DropoutSite[] },
  intInputs: Record<string, { shape: number[]; values: number[] }>,
  lossOf: (g: GraphBuilder) => string,
  samples = 3,
): Promise<{ maxError: number; checked: number; worst: string }> {
  const inputs: Record<string, GradCheckInput> = {};
  for (const [name, v] of Object.entries(intInputs)) inputs[name] = { shape: v.shape, dtype: DataType.INT64, values: v.values, wrt: false };
  for (const p of built.params) inputs[p.name] = { shape: p.shape };
  for (const site of built.dropoutSites) {
    const n = site.shape.reduce((a, b) => a * b, 1);
    inputs[site.name] = { shape: site.shape, values: Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : 1 / (1 - site.rate))), wrt: false };
  }
  return checkGradients(
    inputs,
    (g) => {
      for (const t of built.g.initializers) g.initializer(t);
      for (const n of built.g.nodes) g.addNode({ ...n });
      return lossOf(g);
    },
    { samples },
  );
}

export { weightedSum };

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
