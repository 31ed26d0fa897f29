import { csvCell, toCsv } from './csv';

describe('console CSV export', () => {
  it('quotes every cell and doubles quotes inside', () => {
    expect(csvCell('plain')).toBe('"plain"');
    expect(csvCell('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvCell(null)).toBe('""');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://evil","x")'])('keeps %j from being a formula', (value) => {
    const cell = csvCell(value);
    expect(cell.startsWith(`"'`)).toBe(true);
    expect(cell.slice(2, -1).replaceAll('""', '"')).toBe(value);
  });

  it('leaves other text as it is, formula characters elsewhere included', () => {
    expect(csvCell('a=b')).toBe('"a=b"');
    expect(csvCell("it's")).toBe('"it\'s"');
  });

  it('writes a header, CRLF line ends and a byte order mark', () => {
    expect(toCsv(['a', 'b'], [['1', '=2']])).toBe('\uFEFF"a","b"\r\n"1","\'=2"\r\n');
  });
});
