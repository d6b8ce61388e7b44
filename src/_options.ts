/**
 * Helpers for validating backend option objects. Private module.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";

/** A short type description for error messages (never the value itself). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A number is shown as it is; anything else only by its type (it may be a secret). */
function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : describe(value);
}

/**
 * Copies plain objects (not class instances such as credentials) down to
 * `depth` levels, reading every property once, so later changes to the
 * caller's object, or getters that answer differently, cannot reach us.
 *
 * @throws {InvalidConfigError} When reading fails (a throwing getter or Proxy).
 */
export function snapshot<T>(value: T, keyPath: string, depth = 6): T {
  try {
    return copyPlain(value, depth) as T;
  } catch (error) {
    const what = error instanceof Error ? error.name : describe(error);
    throw new InvalidConfigError(`"${keyPath}" could not be read (${what})`);
  }
}

function copyPlain(value: unknown, depth: number): unknown {
  if (depth === 0 || typeof value !== "object" || value === null || Array.isArray(value)) {
    return value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === "__proto__") continue;
    out[key] = copyPlain((value as Record<string, unknown>)[key], depth - 1);
  }
  return out;
}

/** Reads typed values out of an options record, naming `keyPath.key` in errors. */
export class OptionReader {
  readonly #options: Record<string, unknown>;
  readonly #keyPath: string;
  readonly #known: readonly string[];

  constructor(options: unknown, keyPath: string, known: readonly string[]) {
    options = snapshot(options, keyPath, 3);
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new InvalidConfigError(`"${keyPath}" must be an object, got ${describe(options)}`);
    }
    this.#options = options as Record<string, unknown>;
    this.#keyPath = keyPath;
    this.#known = known;
    for (const key of Object.keys(this.#options)) {
      if (!known.includes(key)) {
        throw new InvalidConfigError(
          `"${keyPath}.${key}" is not a known option (known: ${known.join(", ")})`,
        );
      }
    }
  }

  /** The error for an option, naming its key path. */
  error(key: string, reason: string): InvalidConfigError {
    return new InvalidConfigError(`"${this.#keyPath}.${key}" ${reason}`);
  }

  #get(key: string): unknown {
    const value = this.#options[key];
    return value === null ? undefined : value;
  }

  /** A non-blank string, or undefined when absent. */
  string(key: string): string | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      throw this.error(key, `must be a string, got ${describe(value)}`);
    }
    if (value.trim() === "") throw this.error(key, "must not be blank");
    return value;
  }

  /** A positive integer, or undefined when absent. */
  positiveInteger(key: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
      throw this.error(key, `must be an integer from 1 to ${max}, got ${shown(value)}`);
    }
    return value;
  }

  /** A non-negative integer, or undefined when absent. */
  nonNegativeInteger(key: string): number | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw this.error(key, `must be a non-negative integer, got ${shown(value)}`);
    }
    return value;
  }

  /** A boolean, or undefined when absent. */
  boolean(key: string): boolean | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      throw this.error(key, `must be a boolean, got ${describe(value)}`);
    }
    return value;
  }

  /** A plain object, or undefined when absent. */
  record(key: string): Record<string, unknown> | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw this.error(key, `must be an object, got ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  /** The raw value. */
  raw(key: string): unknown {
    return this.#get(key);
  }
}
