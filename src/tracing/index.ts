/** OpenTelemetry tracing: started from OTEL_* variables, off (and free) without them. */
export { startTracing, tracingWanted, type Tracing } from './start-tracing.js'
export { isTracing } from './tracer.js'
export { inSpan, inDownloadSpan, inJobSpan, markError, addTraceLink, type JobTrace } from './spans.js'
export { traceWebhook, stampTraceParent, annotateWebhook } from './webhook-span.js'
export { traceHeaders, traceLogFields } from './propagation.js'
