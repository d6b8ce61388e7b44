import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InvalidPathError, MemoryBackend, Store } from "../mod.ts";
import { compileGlob, compileSegment, matchSteps } from "./_glob.ts";
import { Prng } from "../tests/_prng.ts";

/** Steps the matcher takes for one call. */
function steps(run: () => boolean): { result: boolean; steps: number } {
  const before = matchSteps.count;
  const result = run();
  return { result, steps: matchSteps.count - before };
}

/**
 * The semantics the matchers must keep, as the (backtracking) regular
 * expressions they replaced; used only on short inputs as an oracle.
 */
function oracle(pattern: string): RegExp {
  const segment = (text: string) => {
    let source = "";
    const chars = [...text];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === "*") source += "[^/]*";
      else if (c === "?") source += "[^/]";
      else if (c === "[") {
        const close = chars.indexOf("]", i + 2);
        if (close < 0) {
          source += "\\[";
          continue;
        }
        let body = chars.slice(i + 1, close).join("");
        const negate = body.startsWith("!");
        if (negate) body = body.slice(1);
        const members = [...body].map((m) => m === "-" ? "-" : m.replace(/[\\^\]]/, "\\$&"))
          .join("");
        source += negate ? `[^/${members}]` : `[${members}]`;
        i = close;
      } else source += c.replace(/[\\^$.*+?()[\]{}|/]/, "\\$&");
    }
    return source;
  };
  const parts = pattern.split("/");
  const source = parts.map((part, index) => {
    const last = index === parts.length - 1;
    if (part === "**") return last ? ".*" : "(?:[^/]+/)*";
    return segment(part) + (last ? "" : "/");
  }).join("");
  return new RegExp(`^${source}$`, "u");
}

describe("glob patterns", () => {
  const cases: [string, string, boolean][] = [
    ["*.txt", "a.txt", true],
    ["*.txt", "d/a.txt", false],
    ["**/*.txt", "a.txt", true],
    ["**/*.txt", "d/e/a.txt", true],
    ["d/**", "d/e/a.txt", true],
    ["d/**", "d", false],
    ["d/**/a.txt", "d/a.txt", true],
    ["d/**/**/a.txt", "d/x/y/a.txt", true],
    ["**", "a/b/c", true],
    ["?.txt", "ab.txt", false],
    ["?.txt", "é.txt", true],
    ["[ab].txt", "b.txt", true],
    ["[!ab].txt", "b.txt", false],
    ["[!ab].txt", "c.txt", true],
    ["[a-c].txt", "b.txt", true],
    ["[]a].txt", "].txt", true],
    ["[a-].txt", "-.txt", true],
    ["a.(txt)", "a.(txt)", true],
    ["a+b", "a+b", true],
    ["[unclosed", "[unclosed", true],
    ["a*b*c", "aXbYc", true],
    ["a*b*c", "aXbYcZ", false],
  ];
  for (const [pattern, path, expected] of cases) {
    test(`${pattern} ${expected ? "matches" : "does not match"} ${path}`, () => {
      assert.equal(compileGlob(pattern)(path), expected);
      assert.equal(oracle(pattern).test(path), expected, "the oracle agrees");
    });
  }

  test("a segment pattern never crosses /", () => {
    assert.equal(compileSegment("*")("a/b"), false);
    assert.equal(compileSegment("?")("/"), false);
    assert.equal(compileSegment("[!a]")("/"), false);
    assert.equal(compileSegment("*")("ab"), true);
  });

  test("a class with a range out of order is an InvalidPathError", () => {
    assert.throws(() => compileSegment("[z-a]"), InvalidPathError);
  });

  test("agrees with the regular expressions it replaced on 5,000 generated cases", () => {
    const prng = new Prng(20261201);
    const atoms = ["a", "b", "*", "?", "[ab]", "[!a]", "[a-b]", "**", "/", "."];
    const letters = ["a", "b", "c", "/", "."];
    let checked = 0;
    let matched = 0;
    for (let i = 0; i < 5000; i++) {
      let pattern = "";
      for (let n = prng.int(1, 6); n > 0; n--) pattern += prng.pick(atoms);
      let path = "";
      for (let n = prng.int(1, 8); n > 0; n--) path += prng.pick(letters);
      // Paths as the store has them: no empty segment.
      if (path.split("/").includes("") || pattern.split("/").includes("")) continue;
      const expected = oracle(pattern).test(path);
      assert.equal(compileGlob(pattern)(path), expected, `${pattern} ${path}`);
      checked++;
      if (expected) matched++;
    }
    assert.ok(checked > 1000 && matched > 100, `${checked} cases, ${matched} matches`);
  });
});

describe("glob matching is linear (counted steps, not time)", () => {
  test("*a*a*a*a*a*b and *a×12*b against a 104-character name take at most (n+1)(m+1) steps", () => {
    const name = "a".repeat(104);
    for (const pattern of ["*a*a*a*a*a*b", `${"*a".repeat(12)}*b`]) {
      const m = pattern.length;
      const run = steps(() => compileSegment(pattern)(name));
      assert.equal(run.result, false);
      assert.ok(run.steps <= (name.length + 1) * (m + 1), `${pattern}: ${run.steps} steps`);
    }
    const match = steps(() => compileSegment("*a*a*a*a*a*b")(`${"a".repeat(103)}b`));
    assert.equal(match.result, true);
  });

  test("doubling the name at most doubles the work", () => {
    const pattern = `${"*a".repeat(20)}*b`;
    const small = steps(() => compileSegment(pattern)("a".repeat(500))).steps;
    const large = steps(() => compileSegment(pattern)("a".repeat(1000))).steps;
    assert.ok(large <= 2 * small + 2 * pattern.length, `${small} then ${large} steps`);
  });

  test("six **/ against a deep path match each (path segment, pattern segment) pair once", () => {
    const pattern = `${"**/".repeat(6)}x*y`;
    const segments = Array.from({ length: 60 }, (_, i) => `d${i}`);
    const miss = steps(() => compileGlob(pattern)([...segments, "x.txt"].join("/")));
    assert.equal(miss.result, false);
    // Each of the 61 path segments is tested against the one non-`**` segment at most once.
    assert.ok(miss.steps <= 61 * 4 * 4, `${miss.steps} steps`);
    assert.equal(compileGlob(pattern)([...segments, "x.y"].join("/")), true);
    assert.equal(compileGlob(`d0/${"**/".repeat(6)}d59/*`)([...segments, "f"].join("/")), true);
  });

  test("listFiles({ pattern }) and glob() return the right files for hostile patterns", async () => {
    const store = new Store(new MemoryBackend());
    const long = "a".repeat(104);
    const deep = Array.from({ length: 30 }, (_, i) => `d${i}`).join("/");
    await store.write(long, "1");
    await store.write(`${long}b`, "2");
    await store.write(`${deep}/${long}b`, "3");
    const before = matchSteps.count;
    const listed = [];
    for await (const f of store.listFiles("", { recursive: true, pattern: "*a*a*a*a*a*b" })) {
      listed.push(f.path);
    }
    assert.deepEqual(listed.sort(), [`${deep}/${long}b`, `${long}b`].sort());
    const globbed = [];
    for await (const f of store.glob(`${"**/".repeat(6)}*a*a*a*a*a*b`)) globbed.push(f.path);
    assert.deepEqual(globbed.sort(), [`${deep}/${long}b`, `${long}b`].sort());
    // Three names of ~105 characters, a 12-character pattern, deep paths of 31 segments.
    assert.ok(matchSteps.count - before < 20_000, `${matchSteps.count - before} steps`);
  });
});
