/** The one error type of `@strata/metrics`: bad inputs (length mismatches, empty corpora, bad options). */
export class MetricsError extends Error {
  override readonly name = 'MetricsError';
}
