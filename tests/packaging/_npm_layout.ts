/**
 * Test harness: the package as JSR's npm layer delivers it to Node and Bun
 * users. The files `deno.json` `publish` lists, each `.ts` transpiled to `.js`
 * (esbuild, one output module per source module), static and string-literal import specifiers
 * rewritten (`./x.ts` → `./x.js`, `npm:pkg@^1/sub` and import-map names →
 * the bare npm name), and a `package.json` whose `exports` mirror `deno.json`
 * and whose `dependencies` come from the import map. A specifier the npm
 * layer could not rewrite (a computed `import()`, a relative file outside the
 * published set) fails the layout with a message naming the file.
 *
 * @module
 */

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import { type Esbuild, type EsbuildPluginBuild, repoRoot } from "./_tools.ts";

interface DenoJson {
  name: string;
  version: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
  publish: { include: string[]; exclude?: string[] };
}

/** The generated package manifest. */
export interface NpmManifest {
  /** The package name (`@remote-store/remote-store`). */
  name: string;
  /** The version from `deno.json`. */
  version: string;
  /** Always `"module"`. */
  type: "module";
  /** Subpath → `./file.js`. */
  exports: Record<string, string>;
  /** npm package name → version range, only the ones the published files import. */
  dependencies: Record<string, string>;
}

/** A glob of `deno.json` `publish` (`*`, `**`) as a regular expression over `/` paths. */
function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (glob.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (c === "*") source += "[^/]*";
    else source += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Repository files, as `/`-separated paths relative to the root (no dot folders, no node_modules). */
function repoFiles(dir = repoRoot): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...repoFiles(path));
    else if (entry.isFile()) {
      out.push(relative(repoRoot, path).split(sep).join("/"));
    }
  }
  return out;
}

/** `npm:@scope/pkg@^1.2/sub` → `{ name: "@scope/pkg", range: "^1.2", subpath: "/sub" }`. */
function parseNpmSpecifier(
  specifier: string,
): { name: string; range: string; subpath: string } {
  const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/.exec(
    specifier,
  );
  if (!match) throw new Error(`Cannot read the npm specifier "${specifier}"`);
  return { name: match[1]!, range: match[2] ?? "*", subpath: match[3] ?? "" };
}

/**
 * Writes the npm layout of the package into `outDir`.
 *
 * @param esbuild The pinned esbuild.
 * @param outDir An empty folder; it becomes the package folder.
 * @returns The generated `package.json` contents.
 * @throws {Error} When a published module has a specifier the npm layer cannot rewrite.
 */
export async function buildNpmLayout(
  esbuild: Esbuild,
  outDir: string,
): Promise<NpmManifest> {
  const deno = JSON.parse(
    readFileSync(join(repoRoot, "deno.json"), "utf8"),
  ) as DenoJson;
  const include = deno.publish.include.map(globToRegExp);
  const exclude = (deno.publish.exclude ?? []).map(globToRegExp);
  const files = repoFiles().filter((f) =>
    include.some((r) => r.test(f)) && !exclude.some((r) => r.test(f))
  );
  const published = new Set(files);
  const dependencies: Record<string, string> = {};

  const rewrite = (specifier: string, from: string): string => {
    if (specifier.startsWith("./") || specifier.startsWith("../")) {
      const target = posix.normalize(
        posix.join(posix.dirname(from), specifier),
      );
      if (!published.has(target)) {
        throw new Error(
          `"${from}" imports "${specifier}", which is not in the published files`,
        );
      }
      return specifier.replace(/\.ts$/, ".js");
    }
    if (specifier.startsWith("node:")) return specifier;
    let npm: string | undefined;
    if (specifier.startsWith("npm:")) npm = specifier;
    else {
      for (const [key, value] of Object.entries(deno.imports)) {
        if (specifier === key) npm = value;
        else if (key.endsWith("/") && specifier.startsWith(key)) {
          npm = value + specifier.slice(key.length);
        } else if (
          specifier.startsWith(`${key}/`) && value.startsWith("npm:")
        ) {
          npm = value + specifier.slice(key.length);
        }
        if (npm) break;
      }
    }
    if (!npm?.startsWith("npm:")) {
      throw new Error(
        `"${from}" imports "${specifier}", which has no npm package`,
      );
    }
    const { name, range, subpath } = parseNpmSpecifier(npm);
    dependencies[name] = range;
    return name + subpath;
  };

  // One esbuild pass per module: every import is left external, under the
  // rewritten name, so the output keeps the module structure (as the npm layer does).
  const modules = files.filter((f) => f.endsWith(".ts"));
  const result = await esbuild.build({
    entryPoints: modules.map((f) => join(repoRoot, f)),
    outbase: repoRoot,
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "silent",
    plugins: [{
      name: "npm-layer-specifiers",
      setup(build: EsbuildPluginBuild) {
        build.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === "entry-point") return undefined;
          const from = relative(repoRoot, args.importer).split(sep).join("/");
          return { path: rewrite(args.path, from), external: true };
        });
      },
    }],
  });
  if (result.errors.length > 0) {
    throw new Error(`esbuild failed: ${JSON.stringify(result.errors)}`);
  }
  for (const file of modules) {
    const code = readFileSync(
      join(outDir, file.replace(/\.ts$/, ".js")),
      "utf8",
    );
    const computed = /\bimport\s*\(\s*(?!["'])/.exec(code);
    if (computed) {
      throw new Error(
        `"${file}" has an import() whose specifier is not a string literal: ` +
          `JSR's npm layer cannot rewrite it ("${
            code.slice(computed.index, computed.index + 60)
          }")`,
      );
    }
  }
  for (const file of files.filter((f) => !f.endsWith(".ts"))) {
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    writeFileSync(join(outDir, file), readFileSync(join(repoRoot, file)));
  }

  const manifest: NpmManifest = {
    name: deno.name,
    version: deno.version,
    type: "module",
    exports: Object.fromEntries(
      Object.entries(deno.exports).map((
        [key, path],
      ) => [key, path.replace(/\.ts$/, ".js")]),
    ),
    dependencies: Object.fromEntries(Object.entries(dependencies).sort()),
  };
  writeFileSync(
    join(outDir, "package.json"),
    JSON.stringify(manifest, null, 2) + "\n",
  );
  return manifest;
}

/**
 * Makes an application folder with the package installed in its
 * `node_modules`, the way `npx jsr add` leaves it. The dependencies are the
 * repository's own installed copies (linked, not downloaded again): Node and
 * Bun resolve a linked package's own dependencies from where it really lies.
 *
 * @param esbuild The pinned esbuild.
 * @param appDir An empty folder for the application.
 * @returns The generated package manifest.
 * @throws {Error} When a dependency is not installed in the repository.
 */
export async function installNpmLayout(
  esbuild: Esbuild,
  appDir: string,
): Promise<NpmManifest> {
  const packageDir = join(
    appDir,
    "node_modules",
    "@remote-store",
    "remote-store",
  );
  mkdirSync(packageDir, { recursive: true });
  const manifest = await buildNpmLayout(esbuild, packageDir);
  for (const name of Object.keys(manifest.dependencies)) {
    const installed = join(repoRoot, "node_modules", name);
    if (!existsSync(installed)) {
      throw new Error(
        `The dependency "${name}" is not installed: run "deno install" first`,
      );
    }
    const link = join(appDir, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(installed), link, "dir");
  }
  writeFileSync(
    join(appDir, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" }, null, 2) +
      "\n",
  );
  return manifest;
}
