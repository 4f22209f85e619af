import { Model } from './ir';
import { GraphBuilder } from './builder';

/**
 * Checks what ONNX Runtime and other tools rely on: SSA names, topological order, declared outputs, and a static
 * shape for every tensor. Returns the problems found (empty when valid). A graph with symbolic input dims (a
 * dynamic-axes export) gets every check but the shape one, which this static shape tracker cannot replay.
 */
export function validateModel(model: Model): string[] {
  const problems: string[] = [];
  const g = model.graph;
  const defined = new Set<string>();
  const define = (name: string, by: string): void => {
    if (defined.has(name)) problems.push(`tensor '${name}' is defined twice (second time by ${by})`);
    defined.add(name);
  };
  for (const t of g.initializers) define(t.name, `initializer '${t.name}'`);
  const initNames = new Set(g.initializers.map((t) => t.name));
  for (const v of g.inputs) if (!initNames.has(v.name)) define(v.name, `graph input '${v.name}'`);
  const nodeNames = new Set<string>();
  g.nodes.forEach((n, i) => {
    if (nodeNames.has(n.name)) problems.push(`node name '${n.name}' is used twice`);
    nodeNames.add(n.name);
    for (const input of n.inputs) if (input && !defined.has(input)) problems.push(`node #${i} '${n.name}' (${n.opType}) reads '${input}' before it is defined (not topologically sorted, or undefined)`);
    for (const o of n.outputs) if (o) define(o, `node '${n.name}'`);
  });
  for (const o of g.outputs) if (!defined.has(o.name)) problems.push(`graph output '${o.name}' is never produced`);
  if (!model.opsetImports.some((o) => o.domain === '' || o.domain === 'ai.onnx')) problems.push('no default-domain opset import');
  const symbolic = g.inputs.some((v) => !initNames.has(v.name) && (v.shape ?? []).some((d) => typeof d !== 'number' || d < 0));
  if (problems.length === 0 && !symbolic) {
    try {
      GraphBuilder.fromModel(model);
    } catch (err) {
      problems.push(`shape inference: ${(err as Error).message}`);
    }
  }
  return problems;
}

export function assertValidModel(model: Model, what = 'model'): void {
  const problems = validateModel(model);
  if (problems.length) throw new Error(`${what} is not valid:\n  - ${problems.join('\n  - ')}`);
}
