import { createHash } from 'node:crypto';
import { cacheKey, canonicalJson, type CacheKeyInput } from './cache-key';

const base: CacheKeyInput = {
  teacherBytesSha256: 'a'.repeat(64),
  tokenizerFingerprint: 'tok-1',
  datasetFingerprint: 'data-1',
  split: 'train',
  layers: [0, 4, 8, 12],
  dtype: 'float16',
  logits: { kind: 'full' },
};

describe('cacheKey', () => {
  it('is 20 lowercase hex characters and deterministic', () => {
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{20}$/);
    expect(cacheKey({ ...base, layers: [0, 4, 8, 12] })).toBe(cacheKey(base));
  });

  it.each<[string, Partial<CacheKeyInput>]>([
    ['teacher', { teacherBytesSha256: 'b'.repeat(64) }],
    ['tokenizer', { tokenizerFingerprint: 'tok-2' }],
    ['dataset', { datasetFingerprint: 'data-2' }],
    ['split', { split: 'dev' }],
    ['layers (set)', { layers: [0, 4, 8] }],
    ['layers (order)', { layers: [12, 8, 4, 0] }],
    ['dtype', { dtype: 'bfloat16' }],
    ['logits kind', { logits: { kind: 'topk', k: 8 } }],
    ['logits none', { logits: { kind: 'none' } }],
  ])('changes when the %s changes', (_, change) => {
    expect(cacheKey({ ...base, ...change })).not.toBe(cacheKey(base));
  });

  it('changes with top-k k', () => {
    expect(cacheKey({ ...base, logits: { kind: 'topk', k: 8 } })).not.toBe(cacheKey({ ...base, logits: { kind: 'topk', k: 16 } }));
  });

  it('changes for an int8 teacher pass and keeps float32 keys as they were before the field existed', () => {
    expect(cacheKey({ ...base, teacherPrecision: 'float32' })).toBe(cacheKey(base));
    expect(cacheKey({ ...base, teacherPrecision: 'int8' })).not.toBe(cacheKey(base));
  });

  it('hashes teacher bytes to the same key as their sha256', () => {
    const bytes = new TextEncoder().encode('fake onnx');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const { teacherBytesSha256, ...rest } = base;
    void teacherBytesSha256;
    expect(cacheKey({ ...rest, teacherBytes: bytes })).toBe(cacheKey({ ...rest, teacherBytesSha256: sha }));
    expect(() => cacheKey(rest)).toThrow(/needs teacherBytesSha256/);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
