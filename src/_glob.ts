/**
 * Glob patterns: `*` and `?` within one segment, `[abc]`, `[a-z]`, `[!abc]`,
 * and `**` for any number of whole segments. Private module.
 *
 * Matching never backtracks: a segment is matched with the two-pointer
 * wildcard algorithm (at most one remembered `*`), which takes at most
 * (name length + 1) × (segment pattern length + 1) steps; a path is matched
 * by carrying the set of pattern positions reached so far across its
 * segments, so each (path segment, pattern segment) pair is matched at most
 * once. A hostile pattern or name costs time proportional to the product of
 * their lengths, never exponential.
 *
 * @module
 */

import { InvalidPathError } from "./errors.ts";

const WILDCARD = /[*?[]/;

/**
 * Checks a path glob: `**` may only be a whole segment (as in `a/**` or `**`),
 * as in the Python library; `a/**b` or `x**` would otherwise silently match
 * like `*`.
 *
 * @throws {InvalidPathError} When a segment has `**` next to other characters.
 */
export function checkGlob(pattern: string): void {
  for (const segment of pattern.split("/")) {
    if (segment !== "**" && segment.includes("**")) {
      throw new InvalidPathError(
        `Invalid glob "${pattern}": "**" must be a whole path segment, got "${segment}"`,
        { path: pattern },
      );
    }
  }
}

/** Whether a pattern segment has any wildcard. */
export function hasWildcard(segment: string): boolean {
  return WILDCARD.test(segment);
}

/**
 * Steps taken by the matchers since the process started: one per character
 * comparison of the segment matcher. Exported for tests, which bound the work
 * of pathological patterns without measuring time.
 */
export const matchSteps: { count: number } = { count: 0 };

/** One code point of a segment pattern: `*`, or a test for exactly one code point. */
type Token = "*" | ((code: number) => boolean);

/** A compiled matcher of one name or one path. */
export type Matcher = (text: string) => boolean;

const SLASH = 0x2f;
const anyChar = (code: number) => code !== SLASH;

/** Parses a class body (between `[` and `]`, without `!`) into a code point test. */
function classTest(body: string, negate: boolean, segment: string): (code: number) => boolean {
  const chars = [...body];
  const singles = new Set<number>();
  const ranges: [number, number][] = [];
  for (let i = 0; i < chars.length; i++) {
    const low = chars[i]!.codePointAt(0)!;
    if (chars[i + 1] === "-" && i + 2 < chars.length) {
      const high = chars[i + 2]!.codePointAt(0)!;
      if (low > high) {
        throw new InvalidPathError(
          `Invalid character class "[${negate ? "!" : ""}${body}]": range out of order`,
          { path: segment },
        );
      }
      ranges.push([low, high]);
      i += 2;
    } else {
      singles.add(low);
    }
  }
  return (code) => {
    const member = singles.has(code) || ranges.some(([low, high]) => code >= low && code <= high);
    return member !== negate && code !== SLASH;
  };
}

/** Parses one segment pattern (no `/`) into tokens; consecutive `*` become one. */
function tokenize(segment: string): Token[] {
  const chars = [...segment];
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === "*") {
      if (tokens.at(-1) !== "*") tokens.push("*");
    } else if (char === "?") {
      tokens.push(anyChar);
    } else if (char === "[") {
      // The first member may be `]` (as in `[]a]`): the class closes at a later `]`.
      const close = chars.indexOf("]", i + 2);
      if (close < 0) {
        tokens.push((code) => code === 0x5b);
        continue;
      }
      let body = chars.slice(i + 1, close).join("");
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      tokens.push(classTest(body, negate, segment));
      i = close;
    } else {
      const literal = char.codePointAt(0)!;
      tokens.push((code) => code === literal);
    }
  }
  return tokens;
}

/** UTF-16 units taken by the code point at `index`. */
function width(text: string, index: number): number {
  return text.codePointAt(index)! > 0xffff ? 2 : 1;
}

/**
 * The two-pointer wildcard match of tokens against a name, one code point at
 * a time: on a mismatch only the last `*` takes one more code point, so no
 * position pair is visited twice.
 */
function matchTokens(tokens: readonly Token[], text: string, start: number, end: number): boolean {
  let p = 0;
  let s = start;
  let starP = -1;
  let starS = start;
  while (s < end) {
    matchSteps.count++;
    const token = tokens[p];
    if (token === "*") {
      starP = p++;
      starS = s;
      continue;
    }
    const code = text.codePointAt(s)!;
    if (token !== undefined && token(code)) {
      p++;
      s += code > 0xffff ? 2 : 1;
    } else if (starP >= 0 && text.charCodeAt(starS) !== SLASH) {
      // Let the last `*` take one more code point; earlier stars never need revisiting.
      p = starP + 1;
      starS += width(text, starS);
      s = starS;
    } else {
      return false;
    }
  }
  while (tokens[p] === "*") p++;
  return p === tokens.length;
}

/**
 * Compiles one segment pattern (for file-name filters and pruning).
 *
 * @throws {InvalidPathError} For a character class with a range out of order.
 */
export function compileSegment(segment: string): Matcher {
  const tokens = tokenize(segment);
  return (name) => matchTokens(tokens, name, 0, name.length);
}

/** The tokens of each pattern segment, or `"**"`. */
function compileParts(pattern: string): ("**" | Token[])[] {
  return pattern.split("/").map((segment) => segment === "**" ? "**" : tokenize(segment));
}

/**
 * Compiles a glob (segments separated by `/`) to a matcher of whole relative
 * paths. `**` as a whole segment matches any number of path segments (at
 * least one when it is the last segment, which then matches everything below).
 *
 * @throws {InvalidPathError} For a character class with a range out of order.
 */
export function compileGlob(pattern: string): Matcher {
  const parts = compileParts(pattern);
  const end = parts.length;
  /** Adds position `j` and, through `**` (which may match no segment), those after it. */
  const reach = (states: Uint8Array, j: number) => {
    while (states[j] === 0) {
      states[j] = 1;
      if (parts[j] !== "**" || j === end - 1) return;
      j++;
    }
  };
  // Reused by every call: matching is synchronous, so calls never overlap.
  let states = new Uint8Array(end + 1);
  let next = new Uint8Array(end + 1);
  return (path) => {
    states.fill(0);
    reach(states, 0);
    let from = 0;
    while (from <= path.length) {
      const slash = path.indexOf("/", from);
      const to = slash < 0 ? path.length : slash;
      next.fill(0);
      let any = false;
      for (let j = 0; j < end; j++) {
        if (states[j] === 0) continue;
        const part = parts[j]!;
        if (part === "**") {
          reach(next, j); // `**` takes this segment and may take more, or none more
          if (j === end - 1) next[end] = 1;
          any = true;
        } else if (matchTokens(part, path, from, to)) {
          reach(next, j + 1);
          any = true;
        }
      }
      if (!any) return false;
      [states, next] = [next, states];
      from = to + 1;
    }
    return states[end] === 1;
  };
}
