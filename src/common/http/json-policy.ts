import { textProblem } from './text-policy';

export interface ValueProblem {
  /** Path from the root, outermost first. */
  path: (string | number)[];
  message: string;
}

export interface ValuePolicy {
  maxDepth: number;
  /** Check strings and property names against the text policy. */
  checkText: boolean;
}

/**
 * The first problem in a parsed JSON value: nesting deeper than `maxDepth`, a `__proto__` property
 * or a `constructor.prototype` (prototype pollution through later merges), and, with `checkText`,
 * text the text policy refuses. Recursion is bounded by `maxDepth`, so hostile nesting cannot
 * exhaust the stack here; the path is built only when there is a problem.
 */
export function jsonValueProblem(value: unknown, policy: ValuePolicy): ValueProblem | null {
  const problem = walk(value, 0, policy);
  if (problem) problem.path.reverse();
  return problem;
}

function walk(value: unknown, depth: number, policy: ValuePolicy): ValueProblem | null {
  if (typeof value === 'string') {
    if (!policy.checkText) return null;
    const message = textProblem(value);
    return message === null ? null : { path: [], message };
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= policy.maxDepth) {
    return { path: [], message: `nests deeper than ${policy.maxDepth} levels` };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = walk(value[i], depth + 1, policy);
      if (problem) {
        problem.path.push(i);
        return problem;
      }
    }
    return null;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key === '__proto__') return { path: [key], message: 'is not an allowed property name' };
    const child = record[key];
    if (
      key === 'constructor' &&
      typeof child === 'object' &&
      child !== null &&
      Object.hasOwn(child, 'prototype')
    ) {
      return { path: ['prototype', key], message: 'is not an allowed property name' };
    }
    if (policy.checkText) {
      const message = textProblem(key);
      if (message !== null) return { path: [key], message: `property name ${message}` };
    }
    const problem = walk(child, depth + 1, policy);
    if (problem) {
      problem.path.push(key);
      return problem;
    }
  }
  return null;
}
