// Assertions on the product's typed errors: a class (TypeError/RangeError/...) plus a stable `code`, and
// for some a `reason` or a message naming the bad field.
import { expect } from 'vitest';

/**
 * Asserts that `fn` throws an instance of `cls` with `code`, and, when given, `reason` and a message matching
 * `message`; `label` names the case in a failure.
 */
export function expectCoded(
  fn: () => unknown,
  cls: ErrorConstructor,
  code: string,
  o: { reason?: string; message?: RegExp; label?: string } = {},
): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, o.label).toBeInstanceOf(cls);
  const e = thrown as { code?: string; reason?: string; message?: string };
  if (o.message !== undefined) expect(e.message, o.label).toMatch(o.message);
  expect(e.code, o.label).toBe(code);
  if (o.reason !== undefined) expect(e.reason, o.label).toBe(o.reason);
}
