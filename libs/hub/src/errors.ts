/** What went wrong, so callers can branch without parsing messages. */
export type HubErrorCode =
  | 'SAFETENSORS' // a malformed, truncated or inconsistent .safetensors file or shard index
  | 'CONFIG' // a config.json Strata cannot map (unknown model_type, unsupported setting)
  | 'WEIGHTS' // a checkpoint whose tensors do not fit the configuration (missing, unexpected, wrong shape)
  | 'ONNX_EXPORT' // an exported ONNX model whose layers or weights cannot be found
  | 'MISSING'; // a file or folder that is not there

export interface HubErrorDetails {
  /** File at fault. */
  file?: string;
  /** Tensor at fault (a safetensors entry or an ONNX initializer). */
  tensor?: string;
  /** config.json field at fault. */
  field?: string;
}

/**
 * The one error type of `@strata/hub`. The message starts with the file (and names the tensor or config field at
 * fault), so it reads like a compiler diagnostic: `model.safetensors: tensor 'x.weight': ...`.
 */
export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly file?: string;
  readonly tensor?: string;
  readonly field?: string;

  constructor(code: HubErrorCode, message: string, details: HubErrorDetails = {}) {
    const where = [details.file, details.tensor !== undefined ? `tensor '${details.tensor}'` : undefined, details.field !== undefined ? `field '${details.field}'` : undefined]
      .filter((p) => p !== undefined)
      .join(': ');
    super(where ? `${where}: ${message}` : message);
    this.name = 'HubError';
    this.code = code;
    this.file = details.file;
    this.tensor = details.tensor;
    this.field = details.field;
  }
}
