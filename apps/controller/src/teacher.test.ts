import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, encodeModel, IR_VERSION, OPSET } from '@strata/onnx';
import { readOnnxMetadata, teacherShape, underArtifacts } from './teacher';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-teacher-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An ONNX file with a 2 MB initializer before the metadata, so the reader has to skip a large field. */
function writeModel(file: string, metadata: Record<string, string>): void {
  const weights = new Float32Array(512 * 1024).map((_, i) => i % 7);
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [{ domain: '', version: OPSET }],
    producerName: 'strata',
    producerVersion: '0.1.0',
    graph: {
      name: 'g',
      nodes: [{ opType: 'Identity', inputs: ['w'], outputs: ['y'], name: 'id', domain: '', attributes: [] } as never],
      initializers: [{ name: 'w', dtype: DataType.FLOAT, dims: [weights.length], data: weights }],
      inputs: [],
      outputs: [{ name: 'y', dtype: DataType.FLOAT, shape: [weights.length] } as never],
      valueInfo: [],
    },
    metadata,
  });
  fs.writeFileSync(file, bytes);
}

describe('teacher metadata', () => {
  it("reads 'strata.config' past a large graph", () => {
    const file = path.join(dir, 'teacher.onnx');
    writeModel(file, { 'strata.architecture': 'bert', 'strata.config': JSON.stringify({ layers: 12, hidden: 768, heads: 12 }) });
    expect(fs.statSync(file).size).toBeGreaterThan(2_000_000);
    expect(readOnnxMetadata(file)).toEqual({ 'strata.architecture': 'bert', 'strata.config': '{"layers":12,"hidden":768,"heads":12}' });
    expect(teacherShape(file)).toEqual({ layers: 12, hidden: 768 });
  });

  it('refuses models Strata did not export and files that are not ONNX', () => {
    const plain = path.join(dir, 'plain.onnx');
    writeModel(plain, {});
    expect(() => teacherShape(plain)).toThrow(`${plain}: no 'strata.config' metadata and no config.json beside it`);
    // Another tool's export (optimum's) carries its Hugging Face config.json beside it.
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_hidden_layers: 6, hidden_size: 384 }));
    expect(teacherShape(plain)).toEqual({ layers: 6, hidden: 384 });
    fs.rmSync(path.join(dir, 'config.json'));
    const junk = path.join(dir, 'junk.onnx');
    fs.writeFileSync(junk, Buffer.from([0x0f, 0xff, 0xff]));
    expect(() => readOnnxMetadata(junk)).toThrow(`${junk}: not an ONNX model (wire type 7`);
  });

  it('keeps paths inside the artifacts root', () => {
    expect(underArtifacts('/artifacts', 'e/teacher/teacher.onnx')).toBe('/artifacts/e/teacher/teacher.onnx');
    expect(() => underArtifacts('/artifacts', '../etc/passwd')).toThrow('../etc/passwd is outside the artifacts root /artifacts');
  });
});
