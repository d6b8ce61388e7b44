/**
 * Reads the TypeScript blocks out of README.md, for the gate's type check
 * and for the tests that run blocks as printed. A block may be preceded by
 * `<!-- name: NAME -->` (a test runs it by that name) and by
 * `<!-- prelude: CODE -->` (declarations the block assumes, such as a `store`
 * made earlier in the text; type-checked with the block, never shown).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));

/** One fenced TypeScript block of the README. */
export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The name from a `<!-- name: ... -->` comment right before it, if any. */
  name?: string;
  /** Declarations from a `<!-- prelude: ... -->` comment right before it, if any. */
  prelude: string;
  /** The code exactly as printed. */
  code: string;
}

/** The package's import specifiers and the repository files they stand for. */
const ENTRYPOINTS: Record<string, string> = {
  "@remote-store/remote-store": "mod.ts",
  "@remote-store/remote-store/memory": "memory.ts",
  "@remote-store/remote-store/local": "local.ts",
  "@remote-store/remote-store/azure": "azure.ts",
  "@remote-store/remote-store/conformance": "conformance.ts",
  "@remote-store/remote-store/cli": "cli.ts",
};

/** Every `ts`/`typescript` block of README.md, in order. */
export function readmeBlocks(file = `${ROOT}README.md`): ReadmeBlock[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(ts|typescript)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    let name: string | undefined;
    let prelude = "";
    for (let j = i - 1; j >= 0; j--) {
      if (lines[j]!.trim() === "") continue;
      const comment = /^<!--\s*(name|prelude):\s*([\s\S]*?)\s*-->$/.exec(lines[j]!);
      if (!comment) break;
      if (comment[1] === "name") name = comment[2];
      else prelude = `${comment[2]}\n${prelude}`;
    }
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`README.md:${i + 1}: the block never closes`);
    blocks.push({ line: i + 1, name, prelude, code: lines.slice(i + 1, end).join("\n") + "\n" });
    i = end;
  }
  return blocks;
}

/**
 * The block's code with the package's specifiers pointing at this checkout
 * (what an import map does for a user), for a file `depth` folders below the
 * repository root.
 */
export function localized(code: string, depth: number): string {
  const up = depth === 0 ? "./" : "../".repeat(depth);
  return code.replace(
    /(from\s+|import\s*\(\s*)(["'])(@remote-store\/remote-store(?:\/[a-z]+)?)\2/g,
    (match, head: string, quote: string, specifier: string) => {
      const target = ENTRYPOINTS[specifier];
      return target === undefined ? match : `${head}${quote}${up}${target}${quote}`;
    },
  );
}
