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

/** One code point of a segment pattern: `*`, or a test for exactly one character. */
type Token = "*" | ((char: string) => boolean);

/** A compiled matcher of one name or one path. */
export type Matcher = (text: string) => boolean;

const anyChar = () => true;

/** Parses a class body (between `[` and `]`, without `!`) into a character test. */
function classTest(body: string, negate: boolean, segment: string): (char: string) => boolean {
  const chars = [...body];
  const singles = new Set<string>();
  const ranges: [number, number][] = [];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (chars[i + 1] === "-" && i + 2 < chars.length) {
      const low = char.codePointAt(0)!;
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
      singles.add(char);
    }
  }
  return (char) => {
    const code = char.codePointAt(0)!;
    const member = singles.has(char) || ranges.some(([low, high]) => code >= low && code <= high);
    return member !== negate && char !== "/";
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
        tokens.push((c) => c === "[");
        continue;
      }
      let body = chars.slice(i + 1, close).join("");
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      tokens.push(classTest(body, negate, segment));
      i = close;
    } else {
      tokens.push((c) => c === char);
    }
  }
  return tokens;
}

/** The two-pointer wildcard match of tokens against a name's code points. */
function matchTokens(tokens: readonly Token[], text: string): boolean {
  const chars = [...text];
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < chars.length) {
    matchSteps.count++;
    const token = tokens[p];
    if (token === "*") {
      starP = p++;
      starS = s;
    } else if (token !== undefined && token(chars[s]!)) {
      p++;
      s++;
    } else if (starP >= 0) {
      // Let the last `*` take one more character; earlier stars never need revisiting.
      p = starP + 1;
      s = ++starS;
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
  // No token matches `/`: a segment pattern never crosses folders.
  return (name) => !name.includes("/") && matchTokens(tokens, name);
}

/**
 * Compiles a glob (segments separated by `/`) to a matcher of whole relative
 * paths. `**` as a whole segment matches any number of path segments (at
 * least one when it is the last segment, which then matches everything below).
 *
 * @throws {InvalidPathError} For a character class with a range out of order.
 */
export function compileGlob(pattern: string): Matcher {
  const parts = pattern.split("/").map((segment) =>
    segment === "**" ? "**" : compileSegment(segment)
  );
  const end = parts.length;
  /** Adds position `j` and, through `**` (which may match no segment), those after it. */
  const reach = (states: Set<number>, j: number) => {
    while (!states.has(j)) {
      states.add(j);
      if (parts[j] !== "**" || j === end - 1) return;
      j++;
    }
  };
  return (path) => {
    let states = new Set<number>();
    reach(states, 0);
    for (const segment of path.split("/")) {
      const next = new Set<number>();
      for (const j of states) {
        const part = parts[j];
        if (part === undefined) continue;
        if (part === "**") {
          reach(next, j); // `**` takes this segment and may take more, or none more
          if (j === end - 1) next.add(end);
        } else if (part(segment)) {
          reach(next, j + 1);
        }
      }
      if (next.size === 0) return false;
      states = next;
    }
    return states.has(end);
  };
}
