/**
 * Glob patterns: `*` and `?` within one segment, `[abc]`, `[a-z]`, `[!abc]`,
 * and `**` for any number of whole segments. Private module.
 *
 * @module
 */

import { InvalidPathError } from "./errors.ts";

const WILDCARD = /[*?[]/;

function isValidClass(source: string): boolean {
  try {
    new RegExp(source, "u");
    return true;
  } catch {
    return false;
  }
}

/** Whether a pattern segment has any wildcard. */
export function hasWildcard(segment: string): boolean {
  return WILDCARD.test(segment);
}

/** Escapes a character that has a meaning in a `u`-flag regular expression. */
function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

/** Translates one segment (no `/`) to a regular expression source. */
function segmentSource(segment: string): string {
  let source = "";
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close < 0) {
        source += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      const members = [...body].map((c) => (c === "-" ? "-" : escapeRegExp(c))).join("");
      const open = negate ? "[^/" : "[";
      if (!isValidClass(`${open}${members}]`)) {
        throw new InvalidPathError(`Invalid character class "[${segment.slice(i + 1, close)}]"`, {
          path: segment,
        });
      }
      source += negate ? `[^/${members}]` : `[${members}]`;
      i = close;
    } else source += escapeRegExp(char);
  }
  return source;
}

/**
 * Compiles a glob (segments separated by `/`) to an anchored RegExp matching
 * whole relative paths.
 */
export function globToRegExp(pattern: string): RegExp {
  const segments = pattern.split("/");
  let source = "";
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === "**") {
      source += last ? ".*" : "(?:[^/]+/)*";
    } else {
      source += segmentSource(segment) + (last ? "" : "/");
    }
  });
  return new RegExp(`^${source}$`, "u");
}

/** Compiles one segment pattern (for file-name filters and pruning). */
export function segmentToRegExp(segment: string): RegExp {
  return new RegExp(`^${segmentSource(segment)}$`, "u");
}
