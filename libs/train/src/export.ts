import { Model, writeModel, assertValidModel } from '@strata/onnx';

/**
 * Writes the trained forward graph as a standalone model: `build` receives the trained values and must declare
 * parameters as initializers (ParamSource 'initializers'), with no dropout inputs.
 */
export function exportInference(file: string, build: (values: ReadonlyMap<string, Float32Array>) => Model, values: ReadonlyMap<string, Float32Array>): Model {
  const model = build(values);
  assertValidModel(model, `exported model '${file}'`);
  writeModel(file, model);
  return model;
}
