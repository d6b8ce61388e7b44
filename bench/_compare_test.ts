/**
 * Tests of the bench's comparison rules (not timed): a contender that fails
 * a repetition is not ranked in that case, a failed raw SDK leaves nobody a
 * ratio, and measured numbers print rounded.
 *
 * ```sh
 * npx --yes deno@2 test -A --config bench/deno.json bench/_compare_test.ts
 * ```
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compare, type Contender } from "./_compare.ts";
import { formatNumber } from "./_lib.ts";

/** A contender whose repetition `rep` yields `values[rep]`, or throws where it is an Error. */
function scripted(id: string, values: (number | Error)[]): Contender & { runs: number } {
  const contender = {
    id,
    label: id,
    runs: 0,
    run(rep: number) {
      contender.runs++;
      const value = values[rep]!;
      if (value instanceof Error) return Promise.reject(value);
      return Promise.resolve({ value, seconds: 1 });
    },
  };
  return contender;
}

describe("bench comparison", () => {
  test("a contender that fails a repetition has no median and no ratio", async () => {
    const flaky = scripted("flystorage", [100, new Error("connection reset"), 100, 100, 100]);
    const results = await compare("upload", "MiB/s", [
      scripted("raw-sdk", [50, 50, 50, 50, 50]),
      flaky,
      scripted("remote-store", [55, 60, 65, 60, 60]),
    ], 5);
    const byId = new Map(results.map((m) => [m.impl, m]));
    const failed = byId.get("flystorage")!;
    assert.match(failed.error!, /^repetition 2 of 5: Error: connection reset$/);
    assert.ok(Number.isNaN(failed.median));
    assert.equal(failed.ratioToRaw, undefined);
    assert.equal(failed.pairedRatioMedian, undefined);
    assert.equal(flaky.runs, 2, "dropped from later repetitions");
    assert.deepEqual(failed.values, [100], "the repetitions it passed stay on record");
    assert.equal(byId.get("remote-store")!.median, 60);
    assert.equal(byId.get("remote-store")!.ratioToRaw, 1.2);
  });

  test("when the raw SDK fails, nobody gets a ratio", async () => {
    const results = await compare("download", "MiB/s", [
      scripted("raw-sdk", [50, 50, new Error("socket hang up")]),
      scripted("remote-store", [55, 60, 65]),
    ], 3);
    const ours = results.find((m) => m.impl === "remote-store")!;
    assert.equal(ours.median, 60);
    assert.equal(ours.ratioToRaw, undefined);
  });

  test("measured numbers print rounded", () => {
    assert.equal(formatNumber(59.099999999999994), "59.1");
    assert.equal(formatNumber(0.04), "0.0");
    assert.equal(formatNumber(123.5), "124");
    assert.equal(formatNumber(12345.67), "12346");
    assert.equal(formatNumber(NaN), "NaN");
  });
});
