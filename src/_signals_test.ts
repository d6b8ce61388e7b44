import { test } from "node:test";
import assert from "node:assert/strict";
import { anySignal } from "./_signals.ts";

for (const [name, any] of [["native", AbortSignal.any], ["fallback", undefined]] as const) {
  test(`anySignal (${name}) aborts with the first reason`, () => {
    const saved = AbortSignal.any;
    (AbortSignal as { any?: unknown }).any = any;
    try {
      const a = new AbortController();
      const b = new AbortController();
      const combined = anySignal([a.signal, b.signal]);
      assert.equal(combined.aborted, false);
      const reason = new Error("b first");
      b.abort(reason);
      assert.equal(combined.aborted, true);
      assert.equal(combined.reason, reason);
      const pre = new AbortController();
      pre.abort("done");
      assert.equal(anySignal([pre.signal, new AbortController().signal]).reason, "done");
    } finally {
      (AbortSignal as { any?: unknown }).any = saved;
    }
  });
}
