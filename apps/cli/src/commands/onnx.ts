import type { Command } from 'commander';
import { addGradients } from '@strata/autodiff';
import { ortTypeName, readModel, validateModel, writeModel, type Model, type ValueInfo } from '@strata/onnx';
import { requireFile } from '../cli-errors';

const ONNX = 'an ONNX model file (.onnx)';

/** What `onnx check` reports about a model besides its validity (pure). */
export function modelSummary(model: Model) {
  const g = model.graph;
  const initialized = new Set(g.initializers.map((t) => t.name));
  const ops = new Map<string, number>();
  for (const n of g.nodes) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    ops.set(op, (ops.get(op) ?? 0) + 1);
  }
  const io = (v: ValueInfo) => ({ name: v.name, dtype: ortTypeName(v.dtype), shape: v.shape ?? null });
  return {
    irVersion: model.irVersion,
    opsets: model.opsetImports.map((o) => ({ domain: o.domain || 'ai.onnx', version: o.version })),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    // Graph inputs that are also initializers are parameters with defaults, not inputs a caller must feed.
    inputs: g.inputs.filter((v) => !initialized.has(v.name)).map(io),
    outputs: g.outputs.map(io),
    nodes: g.nodes.length,
    operators: Object.fromEntries([...ops.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    initializers: g.initializers.length,
    parameters: g.initializers.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0),
    metadata: Object.keys(model.metadata),
  };
}

function formatSummary(file: string, s: ReturnType<typeof modelSummary>, problems: string[]): string {
  const shape = (v: { shape: (number | string)[] | null }) => (v.shape ? `[${v.shape.join(', ')}]` : '[?]');
  const lines = [
    `${file}: ${problems.length ? `INVALID (${problems.length} problem${problems.length === 1 ? '' : 's'})` : 'valid'} (unique names, topological order, shapes)`,
    ...problems.map((p) => `  - ${p}`),
    `IR version ${s.irVersion}; opsets ${s.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}${s.producer ? `; produced by ${s.producer}` : ''}`,
    `inputs:  ${s.inputs.map((v) => `${v.name} ${v.dtype}${shape(v)}`).join(', ') || '(none)'}`,
    `outputs: ${s.outputs.map((v) => `${v.name} ${v.dtype}${shape(v)}`).join(', ')}`,
    `${s.nodes} nodes: ${Object.entries(s.operators).map(([op, n]) => `${op} ${n}`).join(', ')}`,
    `${s.initializers} initializers, ${s.parameters.toLocaleString('en-US')} values${s.metadata.length ? `; metadata: ${s.metadata.join(', ')}` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function registerOnnxCommands(program: Command): void {
  const onnx = program.command('onnx').description('check ONNX models (validity, opset, inputs and outputs, operators, parameters) and append backward passes');

  onnx
    .command('grad')
    .description('append a backward pass: the output model also returns <name>_grad for every --wrt tensor')
    .argument('<in.onnx>', 'model with static shapes and a scalar loss tensor')
    .requiredOption('--loss <name>', 'name of the scalar loss tensor')
    .requiredOption('--wrt <names>', 'comma-separated tensors to differentiate with respect to (usually parameter inputs)')
    .requiredOption('-o, --output <out.onnx>', 'where to write the differentiated model')
    .addHelpText('after', '\nExample:\n  strata onnx grad model.onnx --loss loss --wrt w1,w2 -o model.grad.onnx')
    .action((input: string, opts: { loss: string; wrt: string; output: string }) => {
      const model = readModel(requireFile(input, ONNX));
      const wrt = opts.wrt.split(',').map((s) => s.trim()).filter(Boolean);
      if (wrt.length === 0) throw new Error('--wrt names no tensor');
      const out = addGradients(model, { loss: opts.loss, wrt });
      writeModel(opts.output, out);
      const added = out.graph.nodes.length - model.graph.nodes.length;
      process.stdout.write(`wrote ${opts.output}: ${added} gradient nodes, outputs ${wrt.map((w) => `${w}_grad`).join(', ')}\n`);
    });

  onnx
    .command('check')
    .description('validate a model (unique names, topological order, static shapes; a dynamic-axes export: all but the shape replay) and print what it holds: IR version and opsets, inputs and outputs with types and shapes, node count per operator, initializers and parameter count; exit 1 when invalid')
    .argument('<model.onnx>', 'the model file')
    .option('--json', 'print the summary and the problems as JSON')
    .addHelpText('after', '\nExample:\n  strata onnx check runs/quickstart-spam/teacher.onnx')
    .action((input: string, o: { json?: boolean }) => {
      const model = readModel(requireFile(input, ONNX));
      const problems = validateModel(model);
      const summary = modelSummary(model);
      process.stdout.write(o.json ? `${JSON.stringify({ file: input, valid: problems.length === 0, problems, ...summary })}\n` : formatSummary(input, summary, problems));
      if (problems.length) process.exitCode = 1;
    });
}
