/** What went wrong, so callers can branch without parsing messages. */
export type ActivationErrorCode =
  | 'BAD_MAGIC' // the bytes are not an activation record
  | 'UNKNOWN_VERSION' // a record schema version this reader does not know
  | 'CHECKSUM' // CRC32C mismatch: the record was corrupted
  | 'TRUNCATED' // fewer bytes than the record's header says
  | 'MALFORMED' // header fields that contradict each other or the byte count
  | 'INVALID_RECORD' // encodeRecord / extraction given inconsistent data
  | 'DUPLICATE_ID' // an append of an example id the store already holds
  | 'CACHE_COMPLETE' // an append to a cache whose manifest is written
  | 'MISMATCH' // a record whose layers / dtype / hidden size differ from the cache's
  | 'CORRUPT_STORE' // segments or manifest that cannot be reconciled (not a torn tail)
  | 'NOT_FOUND' // get() of an example id the store does not hold
  | 'CLOSED'; // use of a closed store

/** Where a record sits, when known: index in append order, segment file, byte offset of its frame. */
export interface RecordPosition {
  index?: number;
  segment?: string;
  offset?: number;
}

/**
 * The one error type of `@strata/activations`. When the record at fault has a known position, the message starts
 * with `segment@offset (record #i):` and the fields carry the same values.
 */
export class ActivationError extends Error {
  override readonly name = 'ActivationError';
  readonly code: ActivationErrorCode;
  readonly position?: RecordPosition;

  constructor(code: ActivationErrorCode, message: string, position?: RecordPosition) {
    super(`${describePosition(position)}${message}`);
    this.code = code;
    this.position = position;
  }
}

function describePosition(p?: RecordPosition): string {
  if (!p) return '';
  const parts: string[] = [];
  if (p.segment !== undefined) parts.push(p.offset !== undefined ? `${p.segment}@${p.offset}` : p.segment);
  else if (p.offset !== undefined) parts.push(`offset ${p.offset}`);
  if (p.index !== undefined) parts.push(`(record #${p.index})`);
  return parts.length ? `${parts.join(' ')}: ` : '';
}
