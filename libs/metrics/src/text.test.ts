import { pyFixed, pyRemoveWhitespace, pyRstrip, pySplit } from './text';

describe('Python-compatible string helpers', () => {
  it('split on Python whitespace (incl. U+001F and U+0085, not U+FEFF)', () => {
    expect(pySplit(' a\u001fb\u0085c\u3000d\ufeffe ')).toEqual(['a', 'b', 'c', 'd\ufeffe']);
    expect(pySplit('   ')).toEqual([]);
  });
  it('rstrip and whitespace removal', () => {
    expect(pyRstrip(' a b \t\n')).toBe(' a b');
    expect(pyRemoveWhitespace(' a b\u00a0c ')).toBe('abc');
  });
  it('format like Python f-strings: exact ties round half to even', () => {
    expect(pyFixed(12.25, 1)).toBe('12.2'); // toFixed gives 12.3
    expect(pyFixed(12.75, 1)).toBe('12.8');
    expect(pyFixed(0.125, 2)).toBe('0.12');
    expect(pyFixed(-0.125, 2)).toBe('-0.12');
    expect(pyFixed(2.5, 0)).toBe('2');
    expect(pyFixed(82.3529411764706, 1)).toBe('82.4');
    expect(pyFixed(1.005, 2)).toBe('1.00'); // 1.005 is really 1.00499999999999989...
    expect(pyFixed(0.1, 2)).toBe('0.10');
  });
});
