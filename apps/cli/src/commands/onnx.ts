import type { Command } from 'commander';
import { addGradients } from '@strata/autodiff';
import { readModel, validateModel, writeModel } from '@strata/onnx';

export function registerOnnxCommands(program: Command): void {
  const onnx = program.command('onnx').description('inspect and transform ONNX models');

  onnx
    .command('grad')
    .description('append a backward pass: the output model also returns <name>_grad for every --wrt tensor')
    .argument('<in.onnx>', 'model with static shapes and a scalar loss tensor')
    .requiredOption('--loss <name>', 'name of the scalar loss tensor')
    .requiredOption('--wrt <names>', 'comma-separated tensors to differentiate with respect to (usually parameter inputs)')
    .requiredOption('-o, --output <out.onnx>', 'where to write the differentiated model')
    .action((input: string, opts: { loss: string; wrt: string; output: string }) => {
      const model = readModel(input);
      const wrt = opts.wrt.split(',').map((s) => s.trim()).filter(Boolean);
      if (wrt.length === 0) throw new Error('--wrt names no tensor');
      const out = addGradients(model, { loss: opts.loss, wrt });
      writeModel(opts.output, out);
      const added = out.graph.nodes.length - model.graph.nodes.length;
      process.stdout.write(`wrote ${opts.output}: ${added} gradient nodes, outputs ${wrt.map((w) => `${w}_grad`).join(', ')}\n`);
    });

  onnx
    .command('check')
    .description('validate a model: unique names, topological order, static shapes (a dynamic-axes export: all but the shape replay)')
    .argument('<model.onnx>')
    .action((input: string) => {
      const problems = validateModel(readModel(input));
      if (problems.length) throw new Error(`${input} is not valid:\n  - ${problems.join('\n  - ')}`);
      process.stdout.write(`${input}: valid\n`);
    });
}
