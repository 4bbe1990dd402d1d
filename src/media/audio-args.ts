// Argument validation shared by the audio classes (internal, not exported from the package). Every check
// names the offending field and throws SmallWebRTCTypeError / SmallWebRTCRangeError with ERR_INVALID_ARG.
import { SmallWebRTCError, SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';

/** Throws ERR_INVALID_ARG unless `value` is an integer in [min, max]; returns it. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
  return value;
}

/** Like {@link checkInt} for an optional field: `undefined` gives `fallback`. */
export function optInt(name: string, value: unknown, min: number, max: number, fallback: number): number {
  return value === undefined ? fallback : checkInt(name, value, min, max);
}

/** Throws ERR_INVALID_ARG unless `value` is a finite number in [min, max]; returns it. */
export function checkNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', `${name} must be in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/** Optional finite number. */
export function optNumber(name: string, value: unknown, min: number, max: number, fallback: number): number {
  return value === undefined ? fallback : checkNumber(name, value, min, max);
}

/** Optional boolean. */
export function optBool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be a boolean, got ${typeof value}`);
  }
  return value;
}

/** Throws ERR_INVALID_ARG unless `value` is one of `allowed`. */
export function checkOneOf<T extends number>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'number') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be a number, got ${typeof value}`);
  }
  if (!(allowed as readonly number[]).includes(value)) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${name} must be one of ${allowed.join(', ')}, got ${value}`,
    );
  }
  return value as T;
}

/** Throws ERR_INVALID_ARG unless `value` is a plain options object (undefined allowed when optional). */
export function checkOptions(name: string, value: unknown, optional: boolean): Record<string, unknown> {
  if (value === undefined && optional) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** Throws ERR_INVALID_ARG unless `value` is an Int16Array. */
export function checkInt16Array(name: string, value: unknown): Int16Array {
  if (!(value instanceof Int16Array)) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be an Int16Array`);
  }
  return value;
}

/** Throws ERR_INVALID_ARG unless `value` is a Uint8Array (Buffer included). */
export function checkBytes(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be a Uint8Array or Buffer`);
  }
  return value;
}

/** The sdes:mid header extension to stamp on outgoing packets (RFC 8285 one-byte form). */
export interface MidExtension {
  /** Negotiated extmap id, 1..14. */
  id: number;
  /** The m-line's mid, 1..16 bytes of UTF-8. */
  mid: string;
}

/** Validates a mid extension option (`null` = none). */
export function checkMid(name: string, value: unknown): MidExtension | null {
  if (value === null || value === undefined) return null;
  const o = checkOptions(name, value, false);
  const id = checkInt(`${name}.id`, o.id, 1, 14);
  if (typeof o.mid !== 'string')
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name}.mid must be a string`);
  const bytes = Buffer.byteLength(o.mid, 'utf8');
  if (bytes < 1 || bytes > 16) {
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', `${name}.mid must be 1..16 bytes, got ${bytes}`);
  }
  return { id, mid: o.mid };
}

/** The error every method of a closed audio object throws. */
export function closedError(what: string): SmallWebRTCError {
  return new SmallWebRTCError('ERR_CLOSED', `${what} is closed`);
}
