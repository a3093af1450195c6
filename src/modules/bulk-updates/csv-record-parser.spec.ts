import { CsvRecord, CsvRecordParser, LineSplitter } from './csv-record-parser';

/** Parses `text` fed in chunks of `size` characters. */
function parse(text: string, size = text.length || 1, max = 1000): CsvRecord[] {
  const p = new CsvRecordParser(max);
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
  out.push(...p.end());
  return out;
}

const SAMPLES: [string, string, { line: number; fields: string[]; quoted?: boolean[] }[]][] = [
  [
    'plain rows, LF',
    'a,b\n1,2\n',
    [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
    ],
  ],
  [
    'CRLF and no final line break',
    'a,b\r\n1,2',
    [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
    ],
  ],
  [
    'lone CR',
    'a\r1\r',
    [
      { line: 1, fields: ['a'] },
      { line: 2, fields: ['1'] },
    ],
  ],
  [
    'quoted comma, escaped quote, empty quoted field',
    'x,"a,b","say ""hi""",""\n',
    [{ line: 1, fields: ['x', 'a,b', 'say "hi"', ''], quoted: [false, true, true, true] }],
  ],
  [
    'line breaks inside quotes keep the start line and count lines',
    'k,v\n1,"two\nlines"\r\n2,"cr\r\nlf"\n3,x\n',
    [
      { line: 1, fields: ['k', 'v'] },
      { line: 2, fields: ['1', 'two\nlines'] },
      { line: 4, fields: ['2', 'cr\r\nlf'] },
      { line: 6, fields: ['3', 'x'] },
    ],
  ],
  [
    'blank lines are skipped but counted',
    'a\n\n\nb\n',
    [
      { line: 1, fields: ['a'] },
      { line: 4, fields: ['b'] },
    ],
  ],
  ['empty fields', ',,\n', [{ line: 1, fields: ['', '', ''], quoted: [false, false, false] }]],
  ['byte order mark', '\ufeffa,b\n', [{ line: 1, fields: ['a', 'b'] }]],
  ['unicode', 'ä,"ö😀"\n', [{ line: 1, fields: ['ä', 'ö😀'] }]],
];

describe('CsvRecordParser', () => {
  for (const [name, text, expected] of SAMPLES) {
    it(`${name} (whole and in every chunk size)`, () => {
      for (const size of [text.length, 1, 2, 3, 5]) {
        const records = parse(text, size);
        expect(records.map((r) => ({ line: r.line, fields: r.fields, error: r.error }))).toEqual(
          expected.map((e) => ({ line: e.line, fields: e.fields, error: undefined })),
        );
        expected.forEach((e, i) => {
          if (e.quoted) expect(records[i]!.quoted).toEqual(e.quoted);
        });
      }
    });
  }

  it('reports a quote inside an unquoted field and resumes on the next line', () => {
    const records = parse('a,b"c,d\n1,2\n', 1);
    expect(records[0]).toMatchObject({ line: 1, error: { code: 'CSV_SYNTAX' } });
    expect(records[1]).toMatchObject({ line: 2, fields: ['1', '2'] });
  });

  it('reports text after a closing quote', () => {
    const records = parse('"ab"c,d\nok\n');
    expect(records[0]).toMatchObject({ line: 1, error: { code: 'CSV_SYNTAX' } });
    expect(records[1]).toMatchObject({ line: 2, fields: ['ok'] });
  });

  it('reports a quoted field left open at the end', () => {
    const records = parse('a\n"open,\nmore');
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ line: 2, error: { code: 'CSV_SYNTAX' } });
  });

  it('reports an over-long record without keeping it, and goes on', () => {
    const long = 'x'.repeat(5000);
    const records = parse(`a,"${long}\n${long}"\nb,c\n`, 7, 100);
    expect(records[0]).toMatchObject({ line: 1, error: { code: 'ROW_TOO_LONG' }, fields: [] });
    expect(records[1]).toMatchObject({ line: 3, fields: ['b', 'c'] });
  });
});

describe('LineSplitter', () => {
  it('splits LF and CRLF lines across chunks and numbers them', () => {
    const s = new LineSplitter(100);
    const out = [...s.push('{"a":1}\r\n{"b"'), ...s.push(':2}\n\n{"c":3}'), ...s.end()];
    expect(out).toEqual([
      { line: 1, text: '{"a":1}', tooLong: false },
      { line: 2, text: '{"b":2}', tooLong: false },
      { line: 3, text: '', tooLong: false },
      { line: 4, text: '{"c":3}', tooLong: false },
    ]);
  });

  it('flags over-long lines without their text', () => {
    const s = new LineSplitter(5);
    const out = [...s.push('1234'), ...s.push('5678\nok\n'), ...s.end()];
    expect(out).toEqual([
      { line: 1, text: '', tooLong: true },
      { line: 2, text: 'ok', tooLong: false },
    ]);
  });
});
