/**
 * The service's one text policy. Text that arrives over HTTP (JSON bodies, path parameters, query
 * strings, text bodies) must be storable as PostgreSQL `text`/`jsonb` and as the UTF-8 that Apple
 * and Google read, so two things are refused at the boundary with a 400 naming the field:
 *
 * - NUL (U+0000): PostgreSQL cannot store it in `text`, nor as `\u0000` in `jsonb`;
 * - a lone UTF-16 surrogate (U+D800–U+DFFF without its partner, only reachable through a JSON
 *   `\uD800` escape): it has no UTF-8 encoding.
 *
 * Data that was accepted before this policy (link tokens already in mailboxes) is repaired with
 * `toStorableText` instead: each such character becomes U+FFFD, as WHATWG's USVString conversion does.
 */

/** Cheap pre-filter: most text has neither NUL nor any surrogate at all. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const NUL_MESSAGE = 'must not contain NUL (U+0000) characters';
export const SURROGATE_MESSAGE = 'must not contain unpaired UTF-16 surrogates (not valid Unicode)';

/** Why `text` breaks the text policy, or `null` when it is fine. */
export function textProblem(text: string): string | null {
  if (!SUSPECT.test(text)) return null;
  if (text.includes('\u0000')) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(text)) return SURROGATE_MESSAGE;
  return null;
}

/** `text` with every NUL and lone surrogate replaced by U+FFFD (the same string when there is none). */
export function toStorableText(text: string): string {
  return SUSPECT.test(text) ? text.replace(UNSTORABLE, '\uFFFD') : text;
}

/** A field path for error messages: `a.b[0].c`; odd property names are quoted. */
export function formatFieldPath(parts: readonly (string | number)[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(toStorableText(part.length > 100 ? `${part.slice(0, 100)}…` : part))}]`;
  }
  return out;
}
