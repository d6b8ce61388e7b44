// The whole backend contract through every layer: a layered backend must behave exactly
// as the backend it wraps (capabilities, errors, streams, races, unwrap).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import assert from "node:assert/strict";
import { runConformanceSuite } from "../../conformance.ts";
import {
  type Backend,
  concurrencyLimitLayer,
  type Layer,
  MemoryBackend,
  observeLayer,
  type OperationEvent,
  timeoutLayer,
  withLayers,
} from "../../mod.ts";
import { LocalBackend } from "../../local.ts";

const root = mkdtempSync(join(tmpdir(), "remote-store-layers-conformance-"));
after(() => rmSync(root, { recursive: true, force: true }));

function layered(backend: Backend, events: OperationEvent[]): Backend {
  const layers: Layer[] = [
    observeLayer({ sink: (event) => events.push(event) }),
    timeoutLayer({ ms: 120_000 }),
    concurrencyLimitLayer({ limit: 8 }),
  ];
  return withLayers(backend, layers);
}

for (
  const [name, backend] of [
    ["memory", new MemoryBackend()],
    ["local", new LocalBackend({ root: join(root, "local") })],
  ] as const
) {
  const events: OperationEvent[] = [];
  runConformanceSuite(`${name} through observe, timeout and concurrencyLimit layers`, {
    backend: layered(backend, events),
  });
  after(() => {
    // Every event is complete and well formed.
    assert.ok(events.length > 100);
    for (const event of events) {
      assert.ok(["ok", "error", "cancelled"].includes(event.outcome));
      assert.equal(event.outcome === "error", event.errorCode !== undefined);
      assert.equal(event.backend, name);
    }
  });
}
