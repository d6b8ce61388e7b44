/**
 * The OpenTelemetry layer: one span per backend operation.
 *
 * It needs no OpenTelemetry package itself: give it a tracer from
 * `@opentelemetry/api` (`trace.getTracer("my-app")`), which has the shape of
 * {@link OtelTracer}.
 *
 * @module
 */

import type { Backend } from "../backend.ts";
import type { Layer, LayerContext } from "../layer.ts";
import { InstrumentedBackend, type ProbeSession } from "./_instrument.ts";

/** An attribute value, as `@opentelemetry/api` takes it. */
export type OtelAttributeValue = string | number | boolean;

/** The part of an `@opentelemetry/api` `Span` the layer uses. */
export interface OtelSpan {
  /** Sets one attribute. */
  setAttribute(key: string, value: OtelAttributeValue): unknown;
  /** Sets the status (`code` 2 is `SpanStatusCode.ERROR`). */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Ends the span. */
  end(): void;
}

/** The part of `@opentelemetry/api` `SpanOptions` the layer uses. */
export interface OtelSpanOptions {
  /** `SpanKind` (2 is `SpanKind.CLIENT`). */
  kind?: number;
  /** Attributes known at the start. */
  attributes?: Record<string, OtelAttributeValue>;
}

/** The part of an `@opentelemetry/api` `Tracer` the layer uses. */
export interface OtelTracer {
  /** Starts a span and makes it the active one while `fn` runs. */
  startActiveSpan<F extends (span: OtelSpan) => unknown>(
    name: string,
    options: OtelSpanOptions,
    fn: F,
  ): ReturnType<F>;
}

/** Options of {@link openTelemetryLayer}. */
export interface OpenTelemetryOptions {
  /** The tracer, for example `trace.getTracer("my-app")` from `@opentelemetry/api`. */
  tracer: OtelTracer;
  /** Record the backend key as `remote_store.path` (default `true`; turn off when keys are sensitive). */
  recordPaths?: boolean;
}

const SPAN_KIND_CLIENT = 2;
const SPAN_STATUS_ERROR = 2;

/**
 * A layer that makes one span per backend operation, started when the call
 * starts (active while the backend call starts, so spans of the backend's own
 * requests nest under it) and ended when the operation ends (a streaming
 * read: when its stream ends, errors or is cancelled).
 *
 * The span is named `"<operation> <backend>"` (`"read azure"`), of kind
 * `CLIENT`, with the attributes `remote_store.operation`,
 * `remote_store.backend`, `remote_store.path` (the backend key),
 * `remote_store.target` (copy and move), `remote_store.bytes`,
 * `remote_store.outcome` (`ok`, `error`, `cancelled`). A failed operation
 * sets `error.type` (the OpenTelemetry semantic convention) to the error's
 * code (`NOT_FOUND`, ...) and the span status to `ERROR` with that code as
 * description; messages and option values are never recorded. A cancelled
 * operation keeps the status unset.
 *
 * @param options `tracer` and `recordPaths`.
 * @returns The layer.
 * @throws {TypeError} When `tracer` has no `startActiveSpan`.
 *
 * @example Trace a store
 * ```ts ignore
 * import { trace } from "@opentelemetry/api";
 * import { MemoryBackend, openTelemetryLayer, Store, withLayers } from "@remote-store/remote-store";
 * const tracer = trace.getTracer("my-app");
 * const store = new Store(withLayers(new MemoryBackend(), [openTelemetryLayer({ tracer })]));
 * await store.write("a.txt", "hello"); // one span: "writeBytes memory"
 * ```
 */
export function openTelemetryLayer(options: OpenTelemetryOptions): Layer {
  const tracer = options?.tracer;
  if (typeof tracer?.startActiveSpan !== "function") {
    throw new TypeError('openTelemetryLayer needs a "tracer" with startActiveSpan');
  }
  const recordPaths = options.recordPaths ?? true;
  return {
    name: "openTelemetry",
    wrap(backend: Backend, context: LayerContext): Backend {
      return new InstrumentedBackend(backend, (start): ProbeSession => {
        let span: OtelSpan | undefined;
        const attributes: Record<string, OtelAttributeValue> = {
          "remote_store.operation": start.operation,
          "remote_store.backend": start.backend,
        };
        if (recordPaths) {
          attributes["remote_store.path"] = start.path;
          if (start.target !== undefined) attributes["remote_store.target"] = start.target;
        }
        return {
          run(call) {
            return tracer.startActiveSpan(
              `${start.operation} ${start.backend}`,
              { kind: SPAN_KIND_CLIENT, attributes },
              (started) => {
                span = started;
                return call();
              },
            ) as ReturnType<typeof call>;
          },
          end(end) {
            if (span === undefined) return;
            span.setAttribute("remote_store.outcome", end.outcome);
            if (end.bytes !== undefined) span.setAttribute("remote_store.bytes", end.bytes);
            if (end.outcome === "error" && end.errorCode !== undefined) {
              span.setAttribute("error.type", end.errorCode);
              span.setStatus({ code: SPAN_STATUS_ERROR, message: end.errorCode });
            }
            span.end();
          },
        };
      }, context.backendName);
    },
  };
}
