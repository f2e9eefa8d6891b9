/**
 * Whether mediagate traces, and its tracer. Off until `startTracing` started an SDK: every
 * wrapper in this folder then calls straight through, allocating nothing, so a process without
 * OTEL_* variables pays one boolean test per wrapped step.
 */
import { type Tracer, trace } from '@opentelemetry/api'
import { VERSION } from '../version.js'

let tracer: Tracer | undefined

/** The tracer when tracing is on, else undefined. */
export function activeTracer(): Tracer | undefined {
  return tracer
}

export function isTracing(): boolean {
  return tracer !== undefined
}

/** Called by `startTracing` once the SDK is registered (and with false after its shutdown). */
export function setTracing(on: boolean): void {
  tracer = on ? trace.getTracer('mediagate', VERSION) : undefined
}
