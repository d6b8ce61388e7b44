/**
 * Shared helpers of the security suites: a seeded PRNG, the bad-path
 * generator, the error oracle and a failure collector. Private test module.
 *
 * @module
 */

import { InvalidPathError, normalizePath, RemoteStoreError } from "../../mod.ts";
import { Prng } from "../_prng.ts";

export { Prng };

/** Hex form of a seed for test names. */
export function hexSeed(seed: number): string {
  return `0x${(seed >>> 0).toString(16).padStart(8, "0")}`;
}

// ---- the path generator -------------------------------------------------------

const NAMES = [
  "a",
  "b",
  "file.txt",
  "dir",
  "report-2024.csv",
  "x_y",
  "data.bin",
  "UPPER",
  "sub",
  "n0",
] as const;

const ENCODED = [
  "%2e%2e",
  "%2E%2E",
  "%2e%2E",
  "%2e.",
  ".%2e",
  "..%2f",
  "..%2F",
  "%2f",
  "%2F",
  "..%5c",
  "%5c",
  "%5C..%5C",
  "%252e%252e",
  "%252f",
  "%00",
  "%2e%2e%2f%2e%2e%2fother",
  "..%2f..%2fother",
  "%c0%ae%c0%ae",
  "%e0%80%ae",
  "%u002e%u002e",
  "%",
  "%%",
  "%zz",
] as const;

const BACKSLASH = [
  "..\\x",
  "\\..\\",
  "a\\..\\b",
  "\\\\server\\share",
  ".\\a",
  "a\\.\\b",
  "\\",
  "\\\\",
  "..\\..\\other\\sentinel.txt",
  "x\\..",
  "\\..",
] as const;

const UNICODE = [
  "\u00e9", // é NFC
  "e\u0301", // é NFD
  "caf\u00e9",
  "cafe\u0301",
  "\uff0e\uff0e", // fullwidth dots
  "\uff0e",
  "\u2024\u2024", // one-dot leaders
  "\u2024",
  "\u2025", // two-dot leader
  "\u2026", // ellipsis
  "\ufe52\ufe52", // small full stops
  "\u3002\u3002", // ideographic full stops
  "\u002e\u002e\u2024",
  ".\u0307.", // combining dot above
  ".\u200b.", // zero-width space between dots
  "\u200b",
  "\u202e", // right-to-left override
  "\ufeff", // BOM
  "\u212b", // Angstrom sign (NFC: Å)
  "\ufb01", // fi ligature
  "\u00a0", // no-break space
  "\u3000", // ideographic space
  "\u2028", // line separator
  "\ud83d\ude00", // emoji
  "\uffff",
  "\ufffe",
] as const;

const LONE_SURROGATES = ["\ud800", "\udfff", "a\ud83d", "\ude00b"] as const;

const DOTS = [".", "...", "....", ". .", ".. ", " ..", "..a", "a..", ".a.", "...."] as const;

const WHITESPACE = [" ", "  ", "\t", "\n", "\r", " \t ", "\u00a0", "\u3000"] as const;

const GLOBBY = [
  "*",
  "?",
  "**",
  "[a-z]",
  "[z-a]",
  "[!x]",
  "[",
  "]",
  "a[",
  "{a,b}",
  "a-b",
  "(x)",
  "a+b",
  "^$",
  "|",
] as const;

const MISC = [
  "#frag",
  "?x=1",
  "&",
  "'",
  '"',
  "<>",
  "~",
  "$HOME",
  "C:",
  "c:\\x",
  "con",
  "nul",
  "aux.txt",
  ".~tmp.x",
  "http:",
  "file:",
  "a b",
  ";",
  "=",
  ",",
  "@",
] as const;

const SEPARATORS = ["/", "/", "/", "//", "\\", "/./", "\\.\\", "///"] as const;
const PREFIXES = ["/", "//", "./", "///", ".//", "/./", "\\", ".\\", "\\\\"] as const;
const SUFFIXES = ["/", "/.", "//", "\\", "/./", "/ "] as const;

function controlChar(rng: Prng): string {
  return rng.chance(0.1) ? "\x7f" : String.fromCharCode(rng.int(1, 0x1f));
}

function name(rng: Prng): string {
  return rng.pick(NAMES);
}

function joinWith(rng: Prng, segments: string[]): string {
  let out = segments[0] ?? "";
  for (let i = 1; i < segments.length; i++) out += rng.pick(SEPARATORS) + segments[i];
  return out;
}

function names(rng: Prng, min: number, max: number): string[] {
  return Array.from({ length: rng.int(min, max) }, () => name(rng));
}

function longString(rng: Prng, length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_.";
  let out = "";
  while (out.length < length) out += alphabet[rng.int(0, alphabet.length - 1)];
  return out.replace(/^\.+/, "x");
}

/** A path of about `total` characters in segments of `min`-`max` characters. */
function longPath(rng: Prng, total: number, min: number, max: number): string {
  const segments: string[] = [];
  let length = 0;
  while (length < total) {
    const segment = longString(rng, rng.int(min, max));
    segments.push(segment);
    length += segment.length + 1;
  }
  return segments.join("/");
}

/** Generator categories; the index of a path selects its category round-robin. */
export const CATEGORIES = [
  "dotdot",
  "encoded",
  "backslash",
  "control",
  "over1024",
  "over4096",
  "longSegment",
  "unicode",
  "leading",
  "empty",
  "deep",
  "globby",
  "soup",
  "surrogate",
  "dots",
] as const;

/** A category name. */
export type Category = typeof CATEGORIES[number];

/** One generated path. */
export interface GeneratedPath {
  /** Index in the generated sequence. */
  index: number;
  /** The category that produced it. */
  category: Category;
  /** The path. */
  path: string;
}

function generateOne(rng: Prng, category: Category): string {
  switch (category) {
    case "dotdot": {
      const segments = names(rng, 0, 5);
      const mode = rng.int(0, 4);
      if (mode === 0) segments.unshift("..");
      else if (mode === 1) segments.push("..");
      else if (mode === 2) segments.splice(rng.int(0, segments.length), 0, "..");
      else if (mode === 3) {
        for (let i = 0; i <= segments.length; i += 2) segments.splice(i, 0, "..");
      } else segments.splice(rng.int(0, segments.length), 0, "..", "..", "..");
      let out = joinWith(rng, segments);
      if (rng.chance(0.3)) out = rng.pick(PREFIXES) + out;
      if (rng.chance(0.3)) out += rng.pick(SUFFIXES);
      if (rng.chance(0.2)) out += "/other/sentinel.txt";
      return out;
    }
    case "encoded": {
      const segments = names(rng, 0, 3);
      for (let i = rng.int(1, 3); i > 0; i--) {
        segments.splice(rng.int(0, segments.length), 0, rng.pick(ENCODED));
      }
      if (rng.chance(0.15)) segments.splice(rng.int(0, segments.length), 0, "..");
      return joinWith(rng, segments);
    }
    case "backslash": {
      const segments = names(rng, 0, 3);
      segments.splice(rng.int(0, segments.length), 0, rng.pick(BACKSLASH));
      const out = segments.join(rng.chance(0.5) ? "\\" : "/");
      return rng.chance(0.3) ? rng.pick(PREFIXES) + out : out;
    }
    case "control": {
      const segments = names(rng, 1, 4);
      const at = rng.int(0, segments.length - 1);
      const chars = Array.from({ length: rng.int(1, 3) }, () => controlChar(rng)).join("");
      const where = rng.int(0, 2);
      segments[at] = where === 0
        ? chars + segments[at]
        : where === 1
        ? segments[at] + chars
        : chars;
      if (rng.chance(0.15)) segments[rng.int(0, segments.length - 1)] += "\0";
      if (rng.chance(0.05)) segments.push("\0");
      return joinWith(rng, segments);
    }
    case "over1024":
      return longPath(rng, rng.int(1025, 2200), 5, 120);
    case "over4096": {
      const mode = rng.int(0, 2);
      if (mode === 0) return longPath(rng, rng.int(4097, 6000), 100, 250);
      if (mode === 1) return "a/".repeat(rng.int(2049, 2600)) + "f";
      return longPath(rng, rng.int(4097, 5000), 1, 8);
    }
    case "longSegment": {
      const mode = rng.int(0, 4);
      let segment: string;
      if (mode === 0) segment = longString(rng, rng.int(256, 400)); // > 255 bytes and chars
      else if (mode === 1) segment = "\u00e9".repeat(rng.int(128, 140)); // > 255 bytes, < 255 chars
      else if (mode === 2) segment = "\ud83d\ude00".repeat(rng.int(64, 80)); // 4-byte chars
      else if (mode === 3) segment = longString(rng, 255); // exactly at the limit
      else segment = "\u00e9".repeat(127) + "a"; // 255 bytes
      const segments = names(rng, 0, 2);
      segments.splice(rng.int(0, segments.length), 0, segment);
      return segments.join("/");
    }
    case "unicode": {
      const segments = names(rng, 0, 3);
      for (let i = rng.int(1, 3); i > 0; i--) {
        const u = rng.pick(UNICODE);
        if (rng.chance(0.5) || segments.length === 0) {
          segments.splice(rng.int(0, segments.length), 0, u);
        } else {
          const at = rng.int(0, segments.length - 1);
          segments[at] = rng.chance(0.5) ? u + segments[at] : segments[at] + u;
        }
      }
      return joinWith(rng, segments);
    }
    case "leading": {
      let out = rng.pick(PREFIXES) + joinWith(rng, names(rng, 1, 3));
      if (rng.chance(0.4)) out += rng.pick(SUFFIXES);
      return out;
    }
    case "empty": {
      const pieces = ["", ".", "/", "\\", "./", ...WHITESPACE];
      const count = rng.int(1, 4);
      const parts = Array.from({ length: count }, () => rng.pick(pieces));
      if (rng.chance(0.3)) parts.splice(rng.int(0, parts.length), 0, name(rng));
      return parts.join(rng.pick(["/", "", "\\", "//"]));
    }
    case "deep": {
      const depth = rng.chance(0.04) ? rng.int(255, 1100) : rng.int(12, 80);
      const segments = Array.from({ length: depth }, () => longString(rng, rng.int(1, 3)));
      if (rng.chance(0.2)) segments.splice(rng.int(0, depth), 0, "..");
      return segments.join("/");
    }
    case "globby": {
      const segments = names(rng, 0, 2);
      for (let i = rng.int(1, 2); i > 0; i--) {
        segments.splice(rng.int(0, segments.length), 0, rng.pick(GLOBBY) + name(rng));
      }
      if (rng.chance(0.3)) segments.push(rng.pick(MISC));
      return joinWith(rng, segments);
    }
    case "soup": {
      const pools = [NAMES, ENCODED, BACKSLASH, UNICODE, DOTS, WHITESPACE, GLOBBY, MISC, [".."]];
      const segments = Array.from({ length: rng.int(1, 6) }, () => rng.pick(rng.pick(pools)));
      if (rng.chance(0.2)) segments.push(controlChar(rng));
      let out = joinWith(rng, segments);
      if (rng.chance(0.3)) out = rng.pick(PREFIXES) + out;
      if (rng.chance(0.3)) out += rng.pick(SUFFIXES);
      return out;
    }
    case "surrogate": {
      const segments = names(rng, 0, 2);
      segments.splice(rng.int(0, segments.length), 0, rng.pick(LONE_SURROGATES));
      return segments.join("/");
    }
    case "dots": {
      const segments = names(rng, 0, 3);
      for (let i = rng.int(1, 2); i > 0; i--) {
        segments.splice(rng.int(0, segments.length), 0, rng.pick(DOTS));
      }
      return joinWith(rng, segments);
    }
  }
}

/** Hand-written cases that every backend runs first. */
export const FIXED_PATHS: readonly string[] = [
  "",
  " ",
  "/",
  "//",
  "./",
  ".",
  "..",
  "../",
  "/..",
  "./..",
  "a/..",
  "a/../b",
  "../other/sentinel.txt",
  "../../x",
  "..\\other\\sentinel.txt",
  "\\..\\",
  "..%2fother%2fsentinel.txt",
  "%2e%2e/other/sentinel.txt",
  "%2e%2e%2fother%2fsentinel.txt",
  "\uff0e\uff0e/other/sentinel.txt",
  "\u2024\u2024/other/sentinel.txt",
  "\u002e\u002e/other/sentinel.txt",
  "a\0b",
  "\0",
  "a/\0/b",
  "\x01",
  "\x7f",
  "a\x1fb",
  "caf\u00e9.txt",
  "cafe\u0301.txt",
  "...",
  "a/./b",
  "/leading.txt",
  "//double/leading.txt",
  "./dot-leading.txt",
  "trailing/",
  " / ",
  "a/ /b",
  "\t",
  "a".repeat(255),
  "a".repeat(256),
  "\u00e9".repeat(128),
  "x/".repeat(600) + "f",
  "y".repeat(1025),
  "z".repeat(4097),
  ".~tmp.reserved",
  "[z-a]",
  "a-b.txt",
  "*",
  "**",
  "?",
  "\ud800",
];

/** `count` paths from `seed`; category `i % CATEGORIES.length` for the i-th. */
export function generatePaths(seed: number, count: number): GeneratedPath[] {
  const rng = new Prng(seed);
  const out: GeneratedPath[] = [];
  for (let index = 0; index < count; index++) {
    const category = CATEGORIES[index % CATEGORIES.length]!;
    let path = generateOne(rng, category);
    // Now and then glue on a piece of another category.
    if (rng.chance(0.1)) {
      const other = generateOne(rng, rng.pick(CATEGORIES));
      if (other.length < 512) path = rng.chance(0.5) ? `${path}/${other}` : `${other}/${path}`;
    }
    out.push({ index, category, path });
  }
  return out;
}

// ---- the oracle -----------------------------------------------------------------

/** The clean key of a path, or `undefined` when `normalizePath` rejects it. */
export function cleanPath(path: string, allowEmpty: boolean): string | undefined {
  try {
    return normalizePath(path, { allowEmpty });
  } catch (error) {
    if (error instanceof InvalidPathError) return undefined;
    throw error;
  }
}

/** A printable form of a path for failure messages (escapes, capped). */
export function show(path: string): string {
  const json = JSON.stringify(path);
  return json.length > 160 ? `${json.slice(0, 150)}…(${path.length} chars)` : json;
}

/** A printable form of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error
      ? ` [cause ${cause.constructor.name}: ${cause.message.slice(0, 200)}]`
      : "";
    return `${error.constructor.name}: ${error.message.slice(0, 300)}${causeText}`;
  }
  let text: string;
  try {
    text = String(error);
  } catch {
    text = "<cannot be printed>";
  }
  return `thrown ${typeof error}: ${text.slice(0, 200)}`;
}

/**
 * An error that is a RemoteStoreError in name only: a wrapper ("unexpected
 * backend failure", "could not be reached") around a JavaScript built-in
 * error (SyntaxError, TypeError, RangeError, ReferenceError, URIError,
 * EvalError) thrown by the library or an SDK on the caller's input, rather
 * than around an I/O or service failure (those carry a `code` or `statusCode`).
 */
export function isWrappedCrash(error: unknown): boolean {
  if (!(error instanceof RemoteStoreError)) return false;
  const cause = (error as { cause?: unknown }).cause;
  if (!(cause instanceof Error)) return false;
  const builtin = cause instanceof SyntaxError || cause instanceof TypeError ||
    cause instanceof RangeError || cause instanceof ReferenceError || cause instanceof URIError ||
    cause instanceof EvalError;
  return builtin && (cause as { code?: unknown }).code === undefined &&
    (cause as { statusCode?: unknown }).statusCode === undefined;
}

/** Collects failures by kind and keeps a few examples of each. */
export class Failures {
  readonly #byKind = new Map<string, { count: number; examples: string[] }>();

  /** Records one failure. */
  add(kind: string, example: string): void {
    let entry = this.#byKind.get(kind);
    if (!entry) {
      entry = { count: 0, examples: [] };
      this.#byKind.set(kind, entry);
    }
    entry.count++;
    if (entry.examples.length < 5) entry.examples.push(example);
  }

  /** Number of failures. */
  get size(): number {
    let total = 0;
    for (const entry of this.#byKind.values()) total += entry.count;
    return total;
  }

  /** A multi-line report. */
  report(): string {
    const lines: string[] = [];
    for (const [kind, entry] of this.#byKind) {
      lines.push(`${kind}: ${entry.count} time(s), e.g.`);
      for (const example of entry.examples) lines.push(`    ${example}`);
    }
    return lines.join("\n");
  }
}

/** Counts outcomes (`ok`, or the error class name) per key, for the summary. */
export class Tally {
  readonly #counts = new Map<string, Map<string, number>>();

  /** Adds one outcome. */
  add(key: string, outcome: string): void {
    let inner = this.#counts.get(key);
    if (!inner) {
      inner = new Map();
      this.#counts.set(key, inner);
    }
    inner.set(outcome, (inner.get(outcome) ?? 0) + 1);
  }

  /** One line per key. */
  report(): string {
    return [...this.#counts].map(([key, inner]) =>
      `${key}: ${[...inner].map(([outcome, count]) => `${outcome}=${count}`).join(" ")}`
    ).join("\n");
  }
}
