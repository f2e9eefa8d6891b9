/**
 * The webhook intake's span, and what intake hands on from it: each new media record keeps the
 * span's `traceparent` (media.trace_parent, migration 10) so its capture, which runs later and
 * maybe in another process, links back to the webhook that brought it.
 */
import { context, propagation, SpanKind, trace } from '@opentelemetry/api'
import type { IncomingHttpHeaders } from 'node:http'
import { markError } from './spans.js'
import { currentTraceParent } from './trace-parent.js'
import { activeTracer } from './tracer.js'

/**
 * Runs the intake of one webhook in a server span. A `traceparent` sent by a proxy in front of
 * mediagate is continued; Meta sends none.
 */
export function traceWebhook<T>(route: string, headers: IncomingHttpHeaders, fn: () => Promise<T>): Promise<T> {
  const tracer = activeTracer()
  if (!tracer) return fn()
  const parent = propagation.extract(context.active(), headers)
  const attributes = { 'http.request.method': 'POST', 'http.route': route }
  return tracer.startActiveSpan('webhook', { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
    try {
      return await fn()
    } catch (err) {
      markError(err)
      throw err
    } finally {
      span.end()
    }
  })
}

/** Gives each new media the current span's `traceparent`; the list itself when not tracing. */
export function stampTraceParent<M extends { traceParent?: string | null }>(media: M[]): M[] {
  if (!activeTracer() || media.length === 0) return media
  const traceParent = currentTraceParent()
  return traceParent ? media.map((m) => ({ ...m, traceParent })) : media
}

/** What the webhook's span records of its outcome: ids and counts. */
export function annotateWebhook(result: { object: string; webhookId: string | null; created: { id: string; platform: string; messageId: string }[]; duplicates: number }): void {
  if (!activeTracer()) return
  const span = trace.getActiveSpan()
  if (!span) return
  span.setAttributes({
    'mediagate.object': result.object,
    'mediagate.media_count': result.created.length,
    'mediagate.duplicates': result.duplicates,
    ...(result.webhookId ? { 'mediagate.webhook_id': result.webhookId } : {}),
  })
  if (result.created.length > 0) {
    span.setAttributes({
      'mediagate.media_id': result.created.map((m) => m.id),
      'mediagate.platform': [...new Set(result.created.map((m) => m.platform))],
      'mediagate.message_id': [...new Set(result.created.map((m) => m.messageId))],
    })
  }
}
