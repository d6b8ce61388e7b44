import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  type BackendFileInfo,
  ForwardingBackend,
  MemoryBackend,
  openTelemetryLayer,
  type SignalOptions,
  Store,
  withLayers,
} from "../../mod.ts";
import { collectSpans } from "../../examples/otel.ts";

function sdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, tracer: provider.getTracer("test") };
}

/** A synchronous context manager: enough to see which span is active while a call starts. */
class StackContextManager implements ContextManager {
  #stack: Context[] = [];
  active(): Context {
    return this.#stack.at(-1) ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.#stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#stack = [];
    return this;
  }
}

describe("openTelemetryLayer", () => {
  test("the example produces one span per operation, named and attributed as documented", async () => {
    const spans = await collectSpans();
    const seen = spans.map((s) => ({
      name: s.name,
      kind: s.kind,
      status: s.status.code,
      attributes: { ...s.attributes },
    }));
    const base = {
      "remote_store.backend": "files",
      "remote_store.path": "reports/2026/q1.csv",
    };
    const ok = SpanStatusCode.UNSET;
    assert.deepEqual(seen, [
      {
        name: "writeBytes files",
        kind: SpanKind.CLIENT,
        status: ok,
        attributes: {
          ...base,
          "remote_store.operation": "writeBytes",
          "remote_store.outcome": "ok",
          "remote_store.bytes": 300 * 1024,
        },
      },
      {
        name: "readBytes files",
        kind: SpanKind.CLIENT,
        status: ok,
        attributes: {
          ...base,
          "remote_store.operation": "readBytes",
          "remote_store.outcome": "ok",
          "remote_store.bytes": 300 * 1024,
        },
      },
      {
        // The streaming read's span ended when the stream was cancelled.
        name: "read files",
        kind: SpanKind.CLIENT,
        status: ok,
        attributes: {
          ...base,
          "remote_store.operation": "read",
          "remote_store.outcome": "cancelled",
          "remote_store.bytes": 256 * 1024,
        },
      },
      {
        name: "readBytes files",
        kind: SpanKind.CLIENT,
        status: SpanStatusCode.ERROR,
        attributes: {
          ...base,
          "remote_store.path": "reports/2026/missing.csv",
          "remote_store.operation": "readBytes",
          "remote_store.outcome": "error",
          "error.type": "NOT_FOUND",
        },
      },
    ]);
    assert.equal(spans[3]!.status.message, "NOT_FOUND");
  });

  test("a streaming read's span stays open until its stream ends", async () => {
    const { exporter, tracer } = sdk();
    const store = new Store(withLayers(new MemoryBackend(), [openTelemetryLayer({ tracer })]));
    await store.write("a.bin", new Uint8Array(10));
    exporter.reset();
    const stream = await store.read("a.bin");
    assert.equal(exporter.getFinishedSpans().length, 0);
    await new Response(stream).arrayBuffer();
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, "read memory");
    assert.equal(span?.attributes["remote_store.outcome"], "ok");
    assert.equal(span?.attributes["remote_store.bytes"], 10);
  });

  test("the span is active while the backend call starts, so the backend's spans nest under it", async () => {
    const { exporter, tracer } = sdk();
    /** A backend that makes its own span, as an instrumented HTTP client would. */
    class Traced extends ForwardingBackend {
      override getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
        tracer.startSpan("inner request").end();
        return super.getFileInfo(key, options);
      }
    }
    assert.ok(context.setGlobalContextManager(new StackContextManager()));
    try {
      const store = new Store(
        withLayers(new Traced(new MemoryBackend()), [
          openTelemetryLayer({ tracer, recordPaths: false }),
        ]),
      );
      await store.write("x/a.txt", "a");
      await store.copy("x/a.txt", "b.txt");
      exporter.reset();
      await store.getFileInfo("b.txt");
    } finally {
      context.disable();
    }
    const [inner, outer] = exporter.getFinishedSpans();
    assert.equal(inner?.name, "inner request");
    assert.equal(outer?.name, "getFileInfo memory");
    assert.equal(inner?.parentSpanContext?.spanId, outer?.spanContext().spanId);
    // recordPaths: false leaves keys out.
    assert.equal(outer?.attributes["remote_store.path"], undefined);
  });

  test("copy and move record their target", async () => {
    const { exporter, tracer } = sdk();
    const store = new Store(withLayers(new MemoryBackend(), [openTelemetryLayer({ tracer })]));
    await store.write("a", "1");
    await store.move("a", "b");
    const span = exporter.getFinishedSpans().at(-1)!;
    assert.equal(span.name, "move memory");
    assert.equal(span.attributes["remote_store.path"], "a");
    assert.equal(span.attributes["remote_store.target"], "b");
  });

  test("needs a tracer", () => {
    assert.throws(() => openTelemetryLayer({ tracer: {} as Tracer }), TypeError);
  });
});
