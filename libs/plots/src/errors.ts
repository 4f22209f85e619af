/** The one error type of `@strata/plots`: inputs a chart cannot be drawn from. Messages name the field at fault. */
export class PlotError extends Error {
  override readonly name = 'PlotError';
}
