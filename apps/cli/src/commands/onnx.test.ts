import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, GraphBuilder, attr, createSession, makeTensor, readModel, toOrt, writeModel } from '@strata/onnx';

const CLI = path.resolve(__dirname, '../../bin/strata.js');

describe('strata onnx grad', () => {
  it('differentiates a model file and the result runs in onnxruntime-node', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cli-'));
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [2, 3]);
    g.input('w', DataType.FLOAT, [3, 2]);
    const loss = g.op('ReduceSum', [g.op('Tanh', [g.op('MatMul', ['x', 'w'])])], { keepdims: attr.i(0) }, { output: 'loss' });
    g.output(loss);
    const input = path.join(dir, 'model.onnx');
    const output = path.join(dir, 'model.grad.onnx');
    writeModel(input, g.build());

    const stdout = execFileSync(process.execPath, [CLI, 'onnx', 'grad', input, '--loss', 'loss', '--wrt', 'w', '-o', output], { encoding: 'utf8' });
    expect(stdout).toMatch(/gradient nodes, outputs w_grad/);
    const model = readModel(output);
    expect(model.graph.outputs.map((o) => o.name)).toEqual(['loss', 'w_grad']);

    const x = new Float32Array([0.1, 0.2, 0.3, -0.4, 0.5, -0.6]);
    const w = new Float32Array([0.3, -0.1, 0.2, 0.4, -0.5, 0.6]);
    const out = await (await createSession(model)).run({ x: toOrt(makeTensor('x', DataType.FLOAT, [2, 3], x)), w: toOrt(makeTensor('w', DataType.FLOAT, [3, 2], w)) });
    // d/dw_kj Σ tanh(xw) = Σ_i x_ik (1 - tanh²((xw)_ij))
    const expected = new Float32Array(6);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        let z = 0;
        for (let k = 0; k < 3; k++) z += x[i * 3 + k] * w[k * 2 + j];
        const d = 1 - Math.tanh(z) ** 2;
        for (let k = 0; k < 3; k++) expected[k * 2 + j] += x[i * 3 + k] * d;
      }
    Array.from(out.w_grad.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('names the missing option or tensor on bad input', () => {
    const r = spawnSync(process.execPath, [CLI, 'onnx', 'grad', 'nope.onnx', '--loss', 'l', '--wrt', 'w', '-o', '/tmp/x.onnx'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('strata: nope.onnx: no such file or directory; expected an ONNX model file (.onnx)\n');
    const help = spawnSync(process.execPath, [CLI, 'onnx', 'grad', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('--wrt <names>');
  });
});

describe('strata onnx check', () => {
  it('prints what it checked: validity, opset, inputs and outputs, operators, parameters', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-check-'));
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [2, 3]);
    g.initializer(makeTensor('w', DataType.FLOAT, [3, 2], new Float32Array(6)));
    g.output(g.op('Relu', [g.op('MatMul', ['x', 'w'])]), 'y');
    const file = path.join(dir, 'm.onnx');
    writeModel(file, g.build());
    const r = spawnSync(process.execPath, [CLI, 'onnx', 'check', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${file}: valid`);
    expect(r.stdout).toMatch(/opsets ai\.onnx \d+/);
    expect(r.stdout).toContain('inputs:  x float32[2, 3]');
    expect(r.stdout).toContain('outputs: y float32[2, 2]');
    expect(r.stdout).toContain('3 nodes: Identity 1, MatMul 1, Relu 1');
    expect(r.stdout).toContain('1 initializers, 6 values');
    const json = JSON.parse(spawnSync(process.execPath, [CLI, 'onnx', 'check', file, '--json'], { encoding: 'utf8' }).stdout);
    expect(json).toMatchObject({ valid: true, nodes: 3, operators: { Identity: 1, MatMul: 1, Relu: 1 }, parameters: 6 });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
