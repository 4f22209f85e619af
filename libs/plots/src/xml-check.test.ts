import { xmlProblems } from './xml-check';

describe('xmlProblems (the test checker itself)', () => {
  it('accepts well-formed XML', () => {
    expect(xmlProblems('<svg a="1"><g><rect x="&amp;"/></g><text>a &lt; b</text></svg>\n')).toEqual([]);
  });
  it('finds unbalanced tags, raw < and stray &, and unquoted attributes', () => {
    expect(xmlProblems('<svg><g></svg>')).toEqual(['</svg> closes <g>', 'unclosed: svg']);
    expect(xmlProblems('<svg><text>a & b</text></svg>')).toEqual(['stray & in text: "& b"']);
    expect(xmlProblems('<svg><text>a <b</text></svg>')[0]).toMatch(/^malformed tag/);
    expect(xmlProblems('<svg x=1></svg>')[0]).toMatch(/^malformed tag/);
    expect(xmlProblems('<a/><b/>')).toEqual(['2 root elements']);
  });
});
