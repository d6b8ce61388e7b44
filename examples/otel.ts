/**
 * Trace every storage operation with OpenTelemetry: {@link openTelemetryLayer}
 * makes one span per backend operation through `@opentelemetry/api` (the
 * library itself needs no OpenTelemetry package). Here the spans go to the
 * SDK's in-memory exporter and are printed; in an application, register your
 * own provider and exporter (OTLP, Azure Monitor, ...) and pass
 * `trace.getTracer("my-app")`.
 *
 * Run: `deno run -A examples/otel.ts`, `bun examples/otel.ts` or
 * `node examples/otel.ts` (Node 24).
 *
 * @module
 */

import type { Tracer } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NotFoundError, openTelemetryLayer, Registry } from "../mod.ts";

/**
 * Some work on a traced store: a write, a whole read, a streaming read
 * cancelled after its first chunk, and a read of a missing file.
 *
 * @param tracer The tracer the layer reports to.
 */
export async function tracedWork(tracer: Tracer): Promise<void> {
  await using registry = new Registry(
    {
      backends: { files: { type: "memory", layers: [{ type: "timeout", ms: 30_000 }] } },
      stores: { reports: { backend: "files", rootPath: "reports" } },
    },
    { layers: { files: [openTelemetryLayer({ tracer })] } },
  );
  const reports = registry.getStore("reports").child("2026");
  await reports.write("q1.csv", new Uint8Array(300 * 1024).fill(44));
  await reports.readBytes("q1.csv");
  const reader = (await reports.read("q1.csv")).getReader();
  await reader.read();
  await reader.cancel();
  await reports.readText("missing.csv").catch((error) => {
    if (!(error instanceof NotFoundError)) throw error;
  });
}

/**
 * Runs {@link tracedWork} with an SDK provider and returns the finished spans.
 *
 * @returns The spans, in the order they ended.
 */
export async function collectSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  await tracedWork(provider.getTracer("remote-store-example"));
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

if (import.meta.main) {
  for (const span of await collectSpans()) {
    console.log(span.name, span.status.code === 2 ? "ERROR" : "", JSON.stringify(span.attributes));
  }
}
