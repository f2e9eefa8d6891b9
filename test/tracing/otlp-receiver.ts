/**
 * A loopback OTLP/HTTP receiver for protocol `http/json`: keeps every span posted to /v1/traces,
 * flattened (ids in hex, attributes as plain values), and the raw bodies for secret searches.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type AttributeValue = string | number | boolean | AttributeValue[]

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  attributes: Record<string, AttributeValue>
  links: { traceId: string; spanId: string }[]
  status: { code?: number; message?: string }
  service: string
}

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  doubleValue?: number
  boolValue?: boolean
  arrayValue?: { values?: OtlpValue[] }
}
type OtlpAttributes = { key: string; value: OtlpValue }[] | undefined

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = []
  readonly bodies: string[] = []
  readonly contentTypes: string[] = []
  private server: http.Server | undefined
  port = 0

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        this.contentTypes.push(String(req.headers['content-type']))
        this.bodies.push(text)
        if (req.url === '/v1/traces') this.spans.push(...flatten(JSON.parse(text)))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}

function flatten(body: {
  resourceSpans?: { resource?: { attributes?: OtlpAttributes }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]
}): ReceivedSpan[] {
  const out: ReceivedSpan[] = []
  for (const rs of body.resourceSpans ?? []) {
    const service = String(attributes(rs.resource?.attributes)['service.name'] ?? '')
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: String(s['traceId']),
          spanId: String(s['spanId']),
          parentSpanId: String(s['parentSpanId'] ?? ''),
          name: String(s['name']),
          kind: Number(s['kind']),
          attributes: attributes(s['attributes'] as OtlpAttributes),
          links: ((s['links'] as { traceId: string; spanId: string }[] | undefined) ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: (s['status'] as ReceivedSpan['status'] | undefined) ?? {},
          service,
        })
      }
    }
  }
  return out
}

function attributes(list: OtlpAttributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {}
  for (const { key, value } of list ?? []) out[key] = plain(value)
  return out
}

function plain(v: OtlpValue): AttributeValue {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.boolValue !== undefined) return v.boolValue
  return (v.arrayValue?.values ?? []).map(plain)
}
