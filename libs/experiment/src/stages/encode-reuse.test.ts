// encodeClassification shares one encoding between callers that ask for the same content, and only them.
import { Tokenizer, encodeSplit } from '@strata/data';
import { encodeClassification, loadClassification, subsample } from './common';

describe('encodeClassification reuse', () => {
  const dev = loadClassification('spam', 'dev');
  const tokenizer = Tokenizer.train(dev.examples.slice(0, 200).map((e) => e.textA), { kind: 'wordpiece', vocabSize: 800 });

  it('returns the same encoding for the same split, length, subsample and tokenizer', async () => {
    const a = await encodeClassification('spam', 'dev', tokenizer, 32, { maxExamples: 50 });
    // Another Tokenizer object with the same vocabulary counts as the same tokenizer (worker threads load their own).
    const b = await encodeClassification('spam', 'dev', Tokenizer.fromJson(tokenizer.toJson()), 32, { maxExamples: 50 });
    expect(b).toBe(a);
    expect(a.rows).toEqual(await encodeSplit(tokenizer, { ...dev, examples: subsample(dev.examples, 50) }, { maxLength: 32 }));
    expect(a.ids).toHaveLength(50);
  });

  it('encodes afresh when the length, the subsample or the tokenizer differ', async () => {
    const a = await encodeClassification('spam', 'dev', tokenizer, 32, { maxExamples: 50 });
    const longer = await encodeClassification('spam', 'dev', tokenizer, 48, { maxExamples: 50 });
    const more = await encodeClassification('spam', 'dev', tokenizer, 32, { maxExamples: 60 });
    const other = Tokenizer.train(dev.examples.slice(200, 400).map((e) => e.textA), { kind: 'wordpiece', vocabSize: 800 });
    const otherRows = await encodeClassification('spam', 'dev', other, 32, { maxExamples: 50 });
    for (const x of [longer, more, otherRows]) expect(x).not.toBe(a);
    expect(more.ids).toHaveLength(60);
    expect(Math.max(...longer.rows.map((r) => r.inputIds.length))).toBeGreaterThan(32);
    expect(otherRows.rows).toEqual(await encodeSplit(other, { ...dev, examples: subsample(dev.examples, 50) }, { maxLength: 32 }));
  });
});
