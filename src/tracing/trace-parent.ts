/** W3C `traceparent` values (version 00): what a media record keeps to link its capture to its webhook. */
import { type SpanContext, isSpanContextValid, trace } from '@opentelemetry/api'

const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

export function formatTraceParent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

/** The span context a stored `traceparent` names; undefined for anything malformed or all-zero. */
export function parseTraceParent(value: string): SpanContext | undefined {
  const match = TRACE_PARENT.exec(value)
  if (!match) return undefined
  const spanContext: SpanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), isRemote: true }
  return isSpanContextValid(spanContext) ? spanContext : undefined
}

/** The current span's `traceparent`, or undefined when no valid span is active. */
export function currentTraceParent(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext()
  return spanContext && isSpanContextValid(spanContext) ? formatTraceParent(spanContext) : undefined
}
