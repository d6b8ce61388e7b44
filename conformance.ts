/**
 * The shared conformance suite: the Store contract as data, run against any
 * backend with `node:test` (Deno, Bun and Node run it natively). Every
 * backend in this package passes it, plain and through a child store.
 *
 * @example Check a custom backend
 * ```ts ignore
 * // my_backend_test.ts — run with `deno test -A`, `bun test` or `node --test`
 * import { runConformanceSuite } from "@remote-store/remote-store/conformance";
 * import { MyBackend } from "./my_backend.ts";
 * runConformanceSuite("mine", { backend: new MyBackend() });
 * ```
 *
 * @module
 */

export { runConformanceSuite } from "./src/conformance/suite.ts";
export type { ConformanceOptions } from "./src/conformance/suite.ts";
export { CONFORMANCE_CASES } from "./src/conformance/cases.ts";
export type { ConformanceCase, ConformanceContext } from "./src/conformance/cases.ts";
