import { accuracyByDomain, goldNll } from './generation-eval';

describe('goldNll', () => {
  it('averages the gold continuations\' negative log-likelihood over their tokens, ignoring the other choices', () => {
    // Two examples with two choices each; gold is choice 1 of example 0 and choice 0 of example 1.
    const owner = [{ example: 0, choice: 0 }, { example: 0, choice: 1 }, { example: 1, choice: 0 }, { example: 1, choice: 1 }];
    const scores = [{ logProb: -100, tokens: 1 }, { logProb: -6, tokens: 3 }, { logProb: -2, tokens: 1 }, { logProb: -100, tokens: 9 }];
    expect(goldNll(scores, owner, [1, 0])).toBeCloseTo(8 / 4, 12);
  });

  it('refuses gold continuations without a scored token rather than dividing by zero', () => {
    expect(() => goldNll([{ logProb: 0, tokens: 0 }], [{ example: 0, choice: 0 }], [0])).toThrow(/no gold continuation/);
  });
});

describe('accuracyByDomain', () => {
  const ex = (domain: string | undefined, label: number) => ({ id: `${domain}-${label}`, context: '', choices: ['a', 'b'], label, domain });

  it('scores each source on its own examples', () => {
    const examples = [ex('wikihow', 0), ex('activitynet', 1), ex('wikihow', 1), ex('activitynet', 0), ex('activitynet', 1)];
    // Picks: wikihow 1 of 2 right, activitynet 3 of 3 right.
    expect(accuracyByDomain(examples, [0, 1, 0, 0, 1])).toEqual({ accuracy_activitynet: 100, accuracy_wikihow: 50 });
  });

  it('adds nothing for a single-source task or examples without a source', () => {
    expect(accuracyByDomain([ex('wikihow', 0), ex('wikihow', 1)], [0, 0])).toEqual({});
    expect(accuracyByDomain([ex(undefined, 0), ex(undefined, 1)], [0, 0])).toEqual({});
  });
});
