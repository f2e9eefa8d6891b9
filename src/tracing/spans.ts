/**
 * The wrappers other modules put around a step: a child span of the step in progress, a span
 * that lasts as long as a response body, a span per job (linked to the webhook that created the
 * job), and the error status. Without tracing, or outside a traced job or webhook, they call
 * straight through: a download made for serving opens no orphan span.
 *
 * Attributes are ids, platforms, sizes, hosts and statuses only: never a token, a secret, a URL
 * (Meta's are signed) or a body.
 */
import { type Attributes, context, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { parseTraceParent } from './trace-parent.js'
import { activeTracer } from './tracer.js'

/** What a job kind tells the engine about one job's span. */
export interface JobTrace {
  attributes: Attributes
  /** The `traceparent` of the span that created the job (the webhook's), linked from the job's span. */
  linkTo?: string | null | undefined
}

/** Runs `fn` in a child span of the current span; straight through when there is none. */
export function inSpan<T>(name: string, fn: () => Promise<T>, attributes?: Attributes): Promise<T> {
  const tracer = activeTracer()
  if (!tracer || !trace.getActiveSpan()) return fn()
  return tracer.startActiveSpan(name, attributes ? { attributes } : {}, async (span) => {
    try {
      return await fn()
    } catch (err) {
      failSpan(span, err)
      throw err
    } finally {
      span.end()
    }
  })
}

interface StreamedResponse {
  status: number
  url?: string
  body: { once(event: 'close', listener: () => void): unknown; destroyed?: boolean }
}

/**
 * A child span for a download: from the request until its body is closed (read to the end,
 * destroyed or failed), so it covers the bytes in flight, not just the headers.
 */
export async function inDownloadSpan<R extends StreamedResponse>(name: string, fn: () => Promise<R>): Promise<R> {
  const tracer = activeTracer()
  if (!tracer || !trace.getActiveSpan()) return fn()
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT })
  let response: R
  try {
    response = await context.with(trace.setSpan(context.active(), span), fn)
  } catch (err) {
    failSpan(span, err)
    span.end()
    throw err
  }
  span.setAttributes({ 'http.response.status_code': response.status, ...hostOf(response.url) })
  if (response.body.destroyed) span.end()
  else response.body.once('close', () => span.end())
  return response
}

/**
 * The span of one job's run and settlement: a new trace (the job runs after the request that
 * created it has been answered, perhaps in another process), linked to that request's span when
 * it is known. `describe` is called only when tracing.
 */
export function inJobSpan<T>(kind: string, describe: () => JobTrace | undefined, fn: () => Promise<T>): Promise<T> {
  const tracer = activeTracer()
  if (!tracer) return fn()
  const job = describe()
  const link = linkTo(job?.linkTo)
  const options = { kind: SpanKind.CONSUMER, ...(job ? { attributes: job.attributes } : {}), ...(link ? { links: [link] } : {}) }
  return tracer.startActiveSpan(kind, options, ROOT_CONTEXT, async (span) => {
    try {
      return await fn()
    } finally {
      span.end()
    }
  })
}

/** Marks the current span failed, with the error's stable code (its message is already free of secrets). */
export function markError(err: unknown): void {
  if (!activeTracer()) return
  const span = trace.getActiveSpan()
  if (span) failSpan(span, err)
}

/** Adds a link to the current span (a forward, to the webhook it hands on), when tracing and known. */
export function addTraceLink(traceParent: string | null | undefined): void {
  if (!activeTracer()) return
  const link = linkTo(traceParent)
  if (link) trace.getActiveSpan()?.addLink(link)
}

function linkTo(traceParent: string | null | undefined): Link | undefined {
  const spanContext = traceParent ? parseTraceParent(traceParent) : undefined
  return spanContext ? { context: spanContext } : undefined
}

function failSpan(span: Span, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown }
  const code = typeof e?.code === 'string' ? e.code : 'internal'
  span.setAttribute('mediagate.error_code', code)
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${code}: ${typeof e?.message === 'string' ? e.message : String(err)}` })
}

function hostOf(url: string | undefined): Attributes {
  if (!url) return {}
  try {
    return { 'server.address': new URL(url).hostname }
  } catch {
    return {}
  }
}
