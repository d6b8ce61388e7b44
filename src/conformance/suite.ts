/**
 * Runs the conformance cases against a backend with `node:test`, which Deno,
 * Bun and Node all run natively.
 *
 * @module
 */

import { after, describe, test } from "node:test";
import type { Backend } from "../backend.ts";
import type { BackendType } from "../backend_type.ts";
import { Registry } from "../registry.ts";
import { Store } from "../store.ts";
import { CONFORMANCE_CASES, type ConformanceCase } from "./cases.ts";

/** Options of {@link runConformanceSuite}. */
export interface ConformanceOptions {
  /** The backend under test. Its capabilities decide which cases are skipped. */
  backend: Backend;
  /** Size of the "large" round trips in bytes (default 3 MiB + 5). */
  largeSize?: number;
  /** Close the backend when the suite ends (default `true`). */
  close?: boolean;
  /** Cases to run (default: all of {@link CONFORMANCE_CASES}). */
  cases?: readonly ConformanceCase[];
  /**
   * Cases this backend skips, by `id`, each with the reason shown in the
   * report (besides the cases skipped for a missing capability). An id that
   * names no case is a `TypeError`, so a renamed case cannot be skipped silently.
   */
  skip?: Readonly<Record<string, string>>;
}

/**
 * Registers the conformance suite with `node:test`: every case three times,
 * on a store rooted at a fresh folder ("plain"), on one reached through
 * `child()` ("child store"), and on one that a {@link Registry} built from a
 * config naming the backend ("registry"). A case whose capabilities the backend lacks is skipped,
 * and the skip names the missing capability; a case listed in `skip` is
 * skipped with the reason given there.
 *
 * @param name Name of the backend under test, shown in the report.
 * @param options The backend and settings.
 * @throws {TypeError} When `skip` names an id that no case has.
 *
 * @example Run the suite against the memory backend
 * ```ts ignore
 * import { runConformanceSuite } from "@remote-store/remote-store/conformance";
 * import { MemoryBackend } from "@remote-store/remote-store/memory";
 * runConformanceSuite("memory", { backend: new MemoryBackend() });
 * ```
 */
export function runConformanceSuite(name: string, options: ConformanceOptions): void {
  const { backend } = options;
  const largeSize = options.largeSize ?? 3 * 1024 * 1024 + 5;
  const cases = options.cases ?? CONFORMANCE_CASES;
  const skips = options.skip ?? {};
  for (const id of Object.keys(skips)) {
    if (!cases.some((c) => c.id === id)) {
      throw new TypeError(`Cannot skip conformance case "${id}" because no case has that id`);
    }
  }
  const runId = `conformance-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

  describe(`conformance: ${name}`, () => {
    after(async () => {
      await new Store(backend, { rootPath: runId })
        .deleteFolder("", { recursive: true, missingOk: true })
        .catch(() => {});
      if (options.close ?? true) await backend.close();
    });
    // The registry hands out the backend under test; the suite closes it, not the registry.
    const backendType: BackendType = {
      type: "conformance",
      parseOptions: () => ({}),
      create: () => backend,
    };
    const variants = [
      ["plain", (root: string) => new Store(backend, { rootPath: root })],
      [
        "child store",
        (root: string) =>
          new Store(backend, { rootPath: runId }).child(root.slice(runId.length + 1)),
      ],
      [
        "registry",
        (root: string) =>
          new Registry(
            {
              backends: { b: { type: "conformance" } },
              stores: { s: { backend: "b", rootPath: root } },
            },
            { backendTypes: [backendType] },
          ).getStore("s"),
      ],
    ] as const;
    for (const [variantIndex, [variant, makeStore]] of variants.entries()) {
      describe(variant, () => {
        for (const testCase of cases) {
          const missing = (testCase.requires ?? []).filter((c) =>
            !backend.capabilities.supports(c)
          );
          const reason = skips[testCase.id];
          const skip = missing.length > 0
            ? `backend "${name}" lacks capability ${missing.map((c) => `"${c}"`).join(", ")}`
            : reason !== undefined
            ? `backend "${name}" skips "${testCase.id}": ${reason}`
            : false;
          test(`${testCase.name} [${testCase.id}]`, { skip }, async () => {
            const root = `${runId}/${testCase.id}/v${variantIndex}/root`;
            const store = makeStore(root);
            try {
              await testCase.run({ store, backend, largeSize });
            } finally {
              await store.deleteFolder("", { recursive: true, missingOk: true }).catch(() => {});
            }
          });
        }
      });
    }
  });
}
