/**
 * Glob patterns: `*` and `?` within one segment, `[abc]`, `[a-z]`, `[!abc]`,
 * and `**` for any number of whole segments. Private module.
 *
 * @module
 */

const WILDCARD = /[*?[]/;

/** Whether a pattern segment has any wildcard. */
export function hasWildcard(segment: string): boolean {
  return WILDCARD.test(segment);
}

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(char) ? `\\${char}` : char;
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
