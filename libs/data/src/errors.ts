/** What went wrong, so callers can branch without parsing messages. */
export type DataErrorCode =
  | 'UNKNOWN_TASK'
  | 'UNKNOWN_SPLIT'
  | 'MISSING_DATA' // the task's data folder or a split's files are not there
  | 'MALFORMED_ROW' // a row that cannot be read as the task's format
  | 'TOKENIZER'
  | 'BATCHING';

export interface DataErrorDetails {
  /** File at fault, when there is one. */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
}

/**
 * The one error type of `@strata/data`. Row-level errors carry the file and 1-based line, and the
 * message starts with `file:line:` so it reads like a compiler diagnostic.
 */
export class DataError extends Error {
  readonly code: DataErrorCode;
  readonly file?: string;
  readonly line?: number;

  constructor(code: DataErrorCode, message: string, details: DataErrorDetails = {}) {
    const where = details.file ? `${details.file}${details.line !== undefined ? `:${details.line}` : ''}: ` : '';
    super(`${where}${message}`);
    this.name = 'DataError';
    this.code = code;
    this.file = details.file;
    this.line = details.line;
  }
}

/** Shorthand for the most common case: a row that does not parse. */
export function malformedRow(file: string, line: number, message: string): DataError {
  return new DataError('MALFORMED_ROW', message, { file, line });
}
