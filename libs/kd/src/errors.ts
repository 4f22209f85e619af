/** The one error type of `@strata/kd`: bad depths, bad maps, unknown strategy names. Messages name the field at fault. */
export class KdError extends Error {
  override readonly name = 'KdError';
}
