import { MetricsError } from './errors';
import { exactMatch, meanExactMatch, normalizeSquadAnswer } from './squad';

describe('normalizeSquadAnswer', () => {
  it.each([
    ['The  Cat!', 'cat'],
    ['An apple a day.', 'apple day'],
    ['theater and anthem', 'theater and anthem'], // articles only as whole words
    ["Rock 'n' Roll", 'rock n roll'],
    ['the-the', 'thethe'], // punctuation goes first, so no word boundary is left
    ['éa the ça', 'éa ça'], // Unicode word boundaries, like Python's \b
    ['  tabs\tand\nnewlines ', 'tabs and newlines'],
    ['«the» end', '« » end'], // only ASCII punctuation is removed (string.punctuation); « is still a boundary
  ])('%j -> %j', (input, expected) => {
    expect(normalizeSquadAnswer(input)).toBe(expected);
  });
});

describe('exactMatch', () => {
  it('is 1 when any gold answer matches after normalization', () => {
    expect(exactMatch('the Eiffel Tower.', ['Paris', 'Eiffel tower'])).toBe(1);
    expect(exactMatch('Eiffel', ['Eiffel tower'])).toBe(0);
  });
  it('averages over examples', () => {
    expect(meanExactMatch(['Denver Broncos', 'the 50th', 'no'], [['Denver Broncos'], ['50th', 'fiftieth'], ['yes']])).toBeCloseTo(
      2 / 3,
      15,
    );
  });
  it('rejects missing gold answers and misaligned inputs', () => {
    expect(() => exactMatch('a', [])).toThrow(MetricsError);
    expect(() => meanExactMatch(['a', 'b'], [['a']])).toThrow('meanExactMatch: 2 predictions but 1 gold answer lists');
    expect(() => meanExactMatch(['a'], [[]])).toThrow('meanExactMatch: example 1 has no gold answers');
  });
});
