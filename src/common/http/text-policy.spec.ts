import { jsonValueProblem } from './json-policy';
import { formatFieldPath, NUL_MESSAGE, SURROGATE_MESSAGE, textProblem, toStorableText } from './text-policy';

describe('text policy', () => {
  it('refuses NUL and unpaired surrogates, accepts paired ones', () => {
    expect(textProblem('plain text, ümlaut, 日本')).toBeNull();
    expect(textProblem('emoji \u{1F600}')).toBeNull();
    expect(textProblem('a\u0000b')).toBe(NUL_MESSAGE);
    expect(textProblem('a\uD800b')).toBe(SURROGATE_MESSAGE);
    expect(textProblem('\uDC00')).toBe(SURROGATE_MESSAGE);
    expect(textProblem('\uD83D')).toBe(SURROGATE_MESSAGE);
    expect(textProblem('\uDE00\uD83D')).toBe(SURROGATE_MESSAGE);
  });

  it('repairs text with U+FFFD, leaving valid text untouched', () => {
    const valid = 'Ada \u{1F600}';
    expect(toStorableText(valid)).toBe(valid);
    expect(toStorableText('a\u0000b\uD800c\uDC00\u{1F600}')).toBe('a\uFFFDb\uFFFDc\uFFFD\u{1F600}');
  });

  it('formats field paths', () => {
    expect(formatFieldPath(['template', 'primaryFields', 0, 'value'])).toBe(
      'template.primaryFields[0].value',
    );
    expect(formatFieldPath([0, 'a'])).toBe('[0].a');
    expect(formatFieldPath(['contact', 'first name'])).toBe('contact["first name"]');
    expect(formatFieldPath(['a\u0000'])).toBe('["a\uFFFD"]');
  });
});

describe('JSON value policy', () => {
  const policy = { maxDepth: 4, checkText: true };

  it('finds the first problem with its path', () => {
    expect(jsonValueProblem({ a: [{ b: 'x' }] }, policy)).toBeNull();
    expect(jsonValueProblem({ a: [{ b: 'x\u0000' }] }, policy)).toEqual({
      path: ['a', 0, 'b'],
      message: NUL_MESSAGE,
    });
    expect(jsonValueProblem({ a: { ['k\uD800']: 1 } }, policy)).toEqual({
      path: ['a', 'k\uD800'],
      message: `property name ${SURROGATE_MESSAGE}`,
    });
    expect(jsonValueProblem(JSON.parse('{"x":{"__proto__":{}}}'), policy)?.path).toEqual(['x', '__proto__']);
    expect(jsonValueProblem({ constructor: { prototype: {} } }, policy)?.path).toEqual([
      'constructor',
      'prototype',
    ]);
    expect(jsonValueProblem({ constructor: 'fine' }, policy)).toBeNull();
  });

  it('limits nesting without recursing past the limit', () => {
    expect(jsonValueProblem([[[[1]]]], policy)).toBeNull();
    expect(jsonValueProblem([[[[[1]]]]], policy)).toEqual({
      path: [0, 0, 0, 0],
      message: 'nests deeper than 4 levels',
    });
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(jsonValueProblem(deep, policy)?.message).toBe('nests deeper than 4 levels');
  });

  it('skips text checks when told to', () => {
    expect(jsonValueProblem({ a: 'x\u0000' }, { maxDepth: 4, checkText: false })).toBeNull();
  });
});
