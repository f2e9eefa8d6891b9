/**
 * Structured JSON logs (pino). Secrets are redacted by path as a second line of defence; the
 * first is that no code logs a token, key, secret or signature in the first place.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino'
import pretty from 'pino-pretty'
import { isTracing, traceLogFields } from '../tracing/index.js'

export type Logger = PinoLogger

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hub-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'accessToken',
  'apiKey',
  'appSecret',
  'appSecrets',
  'token',
  'signature',
  'config.accessToken',
  'config.apiKey',
  'config.appSecrets',
  'config.verifyToken',
  'config.databaseUrl',
  'config.database.connectionString',
]

export type LogFormat = 'auto' | 'json' | 'pretty'

export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'auto'): Logger {
  return pino(
    {
      level,
      base: { service: 'mediagate' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // trace_id and span_id on lines written inside a span; no mixin at all when tracing is off.
      ...(isTracing() ? { mixin: traceLogFields } : {}),
    },
    destination ?? defaultDestination(format),
  )
}

/** JSON lines for machines; readable lines (pino-pretty) on a terminal, or when asked. */
function defaultDestination(format: LogFormat): DestinationStream {
  if (format === 'pretty' || (format === 'auto' && process.stdout.isTTY)) {
    return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' })
  }
  return pino.destination({ fd: 1, sync: false })
}

/** A logger that drops everything: library users who did not ask for logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
