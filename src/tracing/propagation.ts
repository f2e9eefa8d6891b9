/** Trace context carried out of the process: into forwarded requests, and into log lines. */
import { context, isSpanContextValid, propagation, trace } from '@opentelemetry/api'
import { activeTracer } from './tracer.js'

const NONE: Readonly<Record<string, string>> = Object.freeze({})

/** `traceparent` (and `tracestate`) for an outgoing request, so the receiver's trace continues ours. */
export function traceHeaders(): Readonly<Record<string, string>> {
  if (!activeTracer() || !trace.getActiveSpan()) return NONE
  const carrier: Record<string, string> = {}
  propagation.inject(context.active(), carrier)
  return carrier
}

/**
 * pino `mixin`: the current span's ids on every log line written inside it. A fresh object each
 * time: pino merges the line's own fields into it.
 */
export function traceLogFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext()
  if (!spanContext || !isSpanContextValid(spanContext)) return {}
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId }
}
