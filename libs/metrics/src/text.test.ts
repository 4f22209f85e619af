import { pyFixed, pyFloatStr, pyRemoveWhitespace, pyRstrip, pySplit, pyStrip } from './text';

describe('Python-compatible string helpers', () => {
  it('print floats as Python str() does', () => {
    // python3 -c 'print([str(x) for x in (2.0, 0.5, 1e-05, 1e16, 2.5, 0.0001, 123456789012345.0, -3.0, 1/3)])'
    const cases: [number, string][] = [
      [2, '2.0'], [0.5, '0.5'], [1e-5, '1e-05'], [1e16, '1e+16'], [2.5, '2.5'], [0.0001, '0.0001'],
      [123456789012345, '123456789012345.0'], [-3, '-3.0'], [1 / 3, '0.3333333333333333'], [1.5e300, '1.5e+300'], [0, '0.0'],
    ];
    for (const [x, s] of cases) expect(pyFloatStr(x)).toBe(s);
  });
  it('split on Python whitespace (incl. U+001F and U+0085, not U+FEFF)', () => {
    expect(pySplit(' a\u001fb\u0085c\u3000d\ufeffe ')).toEqual(['a', 'b', 'c', 'd\ufeffe']);
    expect(pySplit('   ')).toEqual([]);
  });
  it('rstrip, strip and whitespace removal', () => {
    expect(pyRstrip(' a b \t\n')).toBe(' a b');
    expect(pyStrip('\u3000\u001f a b \r\n')).toBe('a b');
    expect(pyStrip('\ufeffa\ufeff')).toBe('\ufeffa\ufeff'); // U+FEFF is not whitespace to Python
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
