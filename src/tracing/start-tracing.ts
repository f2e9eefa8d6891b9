/**
 * Starts OpenTelemetry tracing when the standard OTEL_* variables ask for it, and only then loads
 * the SDK (a dynamic import: a process without them never reads its code). Everything else about
 * the SDK is the SDK's own reading of the environment: protocol (OTEL_EXPORTER_OTLP_PROTOCOL:
 * http/protobuf by default, http/json, grpc), endpoint and headers, OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES, sampler, batch delays, propagators. mediagate exports traces only:
 * its metrics are at /metrics, its logs on stdout.
 */
import { setTracing } from './tracer.js'

export type TracingEnv = Readonly<Record<string, string | undefined>>

export interface Tracing {
  readonly enabled: boolean
  /** Flushes the spans still buffered and stops the SDK; call it before the process exits. */
  shutdown(): Promise<void>
}

/** The part of the SDK mediagate starts; `@opentelemetry/sdk-node`'s NodeSDK. */
export interface TracingSdk {
  start(): void
  shutdown(): Promise<void>
}

export type SdkLoader = (options: { serviceName: string | undefined }) => Promise<TracingSdk>

/**
 * Tracing is on when an exporter is named (OTEL_TRACES_EXPORTER other than `none`) or an OTLP
 * endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
 * OTEL_SDK_DISABLED is not `true`.
 */
export function tracingWanted(env: TracingEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (exporters.length > 0) return !exporters.every((name) => name === 'none')
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim())
}

const OFF: Tracing = { enabled: false, shutdown: () => Promise.resolve() }

/**
 * Starts the SDK if `tracingWanted(env)`; the SDK itself reads `process.env`. Spans are named
 * for service `mediagate` unless OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES)
 * says otherwise.
 */
export async function startTracing(env: TracingEnv = process.env, load: SdkLoader = loadNodeSdk): Promise<Tracing> {
  if (!tracingWanted(env)) return OFF
  const named = Boolean(env['OTEL_SERVICE_NAME']?.trim()) || /(^|,)\s*service\.name\s*=/.test(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '')
  const sdk = await load({ serviceName: named ? undefined : 'mediagate' })
  sdk.start()
  setTracing(true)
  let stopped: Promise<void> | undefined
  return {
    enabled: true,
    shutdown() {
      stopped ??= sdk.shutdown().finally(() => setTracing(false))
      return stopped
    },
  }
}

/**
 * Not a string literal: tsc does not follow it, so the SDK's declarations (about 200 files, with
 * gRPC's and protobuf's) stay out of every program that includes src/, the library's users' too.
 */
const NODE_SDK: string = '@opentelemetry/sdk-node'

type NodeSdkModule = { NodeSDK: new (configuration: Record<string, unknown>) => TracingSdk }

async function loadNodeSdk(options: { serviceName: string | undefined }): Promise<TracingSdk> {
  const { NodeSDK } = (await import(NODE_SDK)) as NodeSdkModule
  // No instrumentations (mediagate makes its own spans); no metrics or logs through OpenTelemetry.
  return new NodeSDK({ instrumentations: [], metricReaders: [], logRecordProcessors: [], ...(options.serviceName ? { serviceName: options.serviceName } : {}) })
}
