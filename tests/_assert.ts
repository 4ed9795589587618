/** Thin wrappers over node:assert/strict with the names the tests use. */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, re: RegExp, message?: string): void {
  assert.match(actual, re, message);
}

export function assertNotMatch(actual: string, re: RegExp, message?: string): void {
  assert.doesNotMatch(actual, re, message);
}

export function assert_(cond: unknown, message?: string): asserts cond {
  assert.ok(cond, message);
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  check?: (e: Error) => void,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    check?.(e as Error);
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected the call to reject" });
}

export function assertThrows(fn: () => unknown, check?: (e: Error) => void): Error {
  try {
    fn();
  } catch (e) {
    check?.(e as Error);
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected the call to throw" });
}
