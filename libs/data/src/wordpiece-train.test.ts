import { trainWordPieceVocab } from './wordpiece-train';

const ALPHABET = ['b', 'g', 'h', 'n', 'p', 's', 'u', '##g', '##n', '##s', '##u'];

describe('trainWordPieceVocab', () => {
  // Worked by hand: ##u ##g (20) first, then ##u ##n (16), h ##ug (15), p ##un (12); then p ##ug and hug ##s tie at
  // 5 and the smaller pair (p = 4, ##ug = 11 before hug = 13, ##s = 9) goes first; b ##un (4) last.
  const counts = new Map([['hug', 10], ['pug', 5], ['pun', 12], ['bun', 4], ['hugs', 5]]);

  it('numbers the alphabet by code point, continuing forms after, then merges the most frequent pair first', () => {
    expect(trainWordPieceVocab(counts, { vocabSize: 18 })).toEqual([...ALPHABET, '##ug', '##un', 'hug', 'pun', 'pug', 'hugs', 'bun']);
  });

  it('depends on the counts only, not on the order the words come in', () => {
    const reversed = new Map([...counts.entries()].reverse());
    expect(trainWordPieceVocab(reversed, { vocabSize: 18 })).toEqual(trainWordPieceVocab(counts, { vocabSize: 18 }));
  });

  it('stops at vocabSize, and earlier when every word is a single token', () => {
    expect(trainWordPieceVocab(counts, { vocabSize: 13 })).toEqual([...ALPHABET, '##ug', '##un']);
    expect(trainWordPieceVocab(counts, { vocabSize: 1000 })).toHaveLength(18);
    expect(trainWordPieceVocab(counts, { vocabSize: 4 })).toEqual(['b', 'g', 'h', 'n']);
  });

  it('merges repeated symbols left to right without overlapping and keeps the counts right', () => {
    // a ##a ##a ##a: ##a ##a (2) -> a ##aa ##a; then a ##aa (0, 2) before ##aa ##a (2, 1), then aaa ##a.
    expect(trainWordPieceVocab(new Map([['aaaa', 1]]), { vocabSize: 100 })).toEqual(['a', '##a', '##aa', 'aaa', 'aaaa']);
  });

  it('uses the given continuing prefix and ignores empty words and zero counts', () => {
    expect(trainWordPieceVocab(new Map([['ab', 2], ['', 5], ['zz', 0]]), { vocabSize: 10, continuingPrefix: '@@' })).toEqual(['a', 'b', '@@b', 'ab']);
  });
});
