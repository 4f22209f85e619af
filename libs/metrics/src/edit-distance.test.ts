import { editDistance, phonemeErrorRate } from './edit-distance';

describe('phoneme error rate', () => {
  it('counts substitutions, insertions and deletions', () => {
    expect(editDistance(['K', 'AE1', 'T'], ['K', 'AE1', 'T'])).toBe(0);
    expect(editDistance(['K', 'AH0', 'T'], ['K', 'AE1', 'T'])).toBe(1);
    expect(editDistance(['K', 'T'], ['K', 'AE1', 'T'])).toBe(1);
    expect(editDistance([], ['K', 'AE1', 'T'])).toBe(3);
    expect(editDistance(['S', 'IH1', 'T', 'IH0', 'NG'], ['K', 'IH1', 'T', 'AH0', 'N'])).toBe(3);
  });

  it('scores each hypothesis against its closest reference', () => {
    const r = phonemeErrorRate(['T AH0 M EY1 T OW2', 'K AE1 T', 'D AO1'], [['T AH0 M EY1 T OW2', 'T AH0 M AA1 T OW2'], ['K AE1 T'], ['D AO1 G']]);
    expect(r).toEqual({ rate: 1 / 12, edits: 1, referenceTokens: 12, exact: 2 });
    expect(phonemeErrorRate(['T AH0 M AA1 T OW2'], [['T AH0 M EY1 T OW2', 'T AH0 M AA1 T OW2']]).rate).toBe(0);
    expect(() => phonemeErrorRate(['A'], [])).toThrow('phonemeErrorRate: 1 hypotheses but 0 reference lists');
  });
});
