/**
 * A streaming RFC 4180 CSV reader: feed it text in chunks of any size (a chunk may end inside a
 * field, a quote pair or a CRLF) and it hands back the records each chunk completes. It keeps
 * only the record being read, so memory stays flat however long the input is.
 *
 * - Fields are separated by `,`, records by CRLF, LF or a lone CR.
 * - A field is quoted with `"`; inside it `""` is one quote, and commas and line breaks are data.
 * - A quote inside an unquoted field, or anything but a separator after a closing quote, makes the
 *   record a `CSV_SYNTAX` error; reading resumes after the next line break.
 * - A record longer than `maxRecordChars` is reported as `ROW_TOO_LONG` (quotes still respected to
 *   find its end) without keeping its text.
 * - Blank lines are skipped; a byte order mark at the very start is ignored.
 */
export interface CsvRecord {
  /** 1-based line of the input where the record starts. */
  line: number;
  fields: string[];
  /** Per field: whether it was quoted (`""` is an empty string, an empty unquoted field no value). */
  quoted: boolean[];
  error?: { code: 'CSV_SYNTAX' | 'ROW_TOO_LONG'; message: string };
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote was seen inside a quoted field: an escaped quote or the field's end. */
  QuoteInQuoted,
  /** After a syntax error: skip to the next line break. */
  Skip,
}

export class CsvRecordParser {
  private state = State.FieldStart;
  private line = 1;
  private started = false;
  private recordLine = 1;
  private fields: string[] = [];
  private quoted: boolean[] = [];
  private field = '';
  private fieldQuoted = false;
  private chars = 0;
  private error: CsvRecord['error'];
  private atStart = true;
  /** The previous chunk ended with a CR that ended a record: a LF starting this chunk belongs to it. */
  private skipLf = false;

  constructor(private readonly maxRecordChars: number) {}

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const n = chunk.length;
    let i = 0;
    if (this.atStart && n > 0) {
      this.atStart = false;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (this.skipLf) {
        this.skipLf = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      switch (this.state) {
        case State.FieldStart:
          if (c === QUOTE) {
            this.begin();
            this.fieldQuoted = true;
            this.state = State.Quoted;
            i++;
          } else if (c === COMMA) {
            this.begin();
            this.endField();
            i++;
          } else if (c === LF || c === CR) {
            if (this.started) this.endField();
            this.endRecord(out);
            this.lineBreak(c);
            i++;
          } else {
            this.begin();
            this.state = State.Unquoted;
          }
          break;
        case State.Unquoted: {
          let j = i;
          while (j < n) {
            const d = chunk.charCodeAt(j);
            if (d === COMMA || d === LF || d === CR || d === QUOTE) break;
            j++;
          }
          this.append(chunk, i, j);
          i = j;
          if (i === n) break;
          const d = chunk.charCodeAt(i);
          if (d === QUOTE) {
            this.fail(
              'CSV_SYNTAX',
              'a quote inside an unquoted field (quote the whole field and double the quote)',
            );
          } else if (d === COMMA) {
            this.endField();
            this.state = State.FieldStart;
            i++;
          } else {
            this.endField();
            this.endRecord(out);
            this.lineBreak(d);
            i++;
          }
          break;
        }
        case State.Quoted: {
          let j = i;
          while (j < n) {
            const d = chunk.charCodeAt(j);
            if (d === QUOTE) break;
            if (d === LF) this.line++;
            j++;
          }
          this.append(chunk, i, j);
          i = j;
          if (i < n) {
            this.state = State.QuoteInQuoted;
            i++;
          }
          break;
        }
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            this.append('"', 0, 1);
            this.state = State.Quoted;
            i++;
          } else if (c === COMMA) {
            this.endField();
            this.state = State.FieldStart;
            i++;
          } else if (c === LF || c === CR) {
            this.endField();
            this.endRecord(out);
            this.lineBreak(c);
            i++;
          } else {
            this.fail('CSV_SYNTAX', 'characters after the closing quote of a field');
          }
          break;
        case State.Skip:
          if (c === LF || c === CR) {
            this.endRecord(out);
            this.lineBreak(c);
          }
          i++;
          break;
      }
    }
    return out;
  }

  /** The end of the input: the last record, if it had no line break. */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.state === State.Quoted)
      this.fail('CSV_SYNTAX', 'a quoted field is not closed before the end of the upload');
    if (this.started) {
      if (this.state !== State.Skip) this.endField();
      this.endRecord(out);
    }
    return out;
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.recordLine = this.line;
  }

  private append(text: string, from: number, to: number): void {
    if (to <= from) return;
    this.chars += to - from;
    if (this.chars > this.maxRecordChars) {
      if (!this.error) {
        this.error = {
          code: 'ROW_TOO_LONG',
          message: `the row is longer than ${this.maxRecordChars} characters`,
        };
        this.fields = [];
        this.quoted = [];
      }
      this.field = '';
      return;
    }
    if (this.error) return;
    this.field += from === 0 && to === text.length ? text : text.slice(from, to);
  }

  private endField(): void {
    if (!this.error) {
      this.fields.push(this.field);
      this.quoted.push(this.fieldQuoted);
    }
    this.chars++;
    this.field = '';
    this.fieldQuoted = false;
  }

  private endRecord(out: CsvRecord[]): void {
    if (this.started) {
      const record: CsvRecord = { line: this.recordLine, fields: this.fields, quoted: this.quoted };
      if (this.error) record.error = this.error;
      out.push(record);
    }
    this.started = false;
    this.fields = [];
    this.quoted = [];
    this.field = '';
    this.fieldQuoted = false;
    this.chars = 0;
    this.error = undefined;
    this.state = State.FieldStart;
  }

  private lineBreak(c: number): void {
    this.line++;
    if (c === CR) this.skipLf = true;
  }

  private fail(code: 'CSV_SYNTAX', message: string): void {
    this.begin();
    if (!this.error || this.error.code !== 'CSV_SYNTAX') this.error = { code, message };
    this.fields = [];
    this.quoted = [];
    this.field = '';
    this.state = State.Skip;
  }
}

/**
 * Splits a stream of text into lines (LF or CRLF) for NDJSON, without keeping more than one line.
 * Lines longer than `maxLineChars` come back as `tooLong` with no text.
 */
export class LineSplitter {
  private line = 0;
  private current = '';
  private chars = 0;
  private tooLong = false;
  private atStart = true;

  constructor(private readonly maxLineChars: number) {}

  push(chunk: string): { line: number; text: string; tooLong: boolean }[] {
    const out: { line: number; text: string; tooLong: boolean }[] = [];
    let i = 0;
    if (this.atStart && chunk.length > 0) {
      this.atStart = false;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (;;) {
      const j = chunk.indexOf('\n', i);
      const end = j === -1 ? chunk.length : j;
      this.add(chunk, i, end);
      if (j === -1) break;
      out.push(this.take());
      i = j + 1;
    }
    return out;
  }

  end(): { line: number; text: string; tooLong: boolean }[] {
    return this.chars > 0 || this.tooLong ? [this.take()] : [];
  }

  private add(chunk: string, from: number, to: number): void {
    if (to <= from) return;
    this.chars += to - from;
    if (this.chars > this.maxLineChars) {
      this.tooLong = true;
      this.current = '';
      return;
    }
    this.current += chunk.slice(from, to);
  }

  private take(): { line: number; text: string; tooLong: boolean } {
    this.line++;
    let text = this.current;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const item = { line: this.line, text, tooLong: this.tooLong };
    this.current = '';
    this.chars = 0;
    this.tooLong = false;
    return item;
  }
}
