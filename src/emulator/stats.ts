/** Counters the emulator keeps, so tests and benchmarks can assert what a client really did. */

export interface MediaCounters {
  lookups: number
  downloadsStarted: number
  downloadsCompleted: number
  bytesSent: number
  /** Graph lookups and WhatsApp downloads of this media, by the label of the token they carried (`default`: accessToken). */
  tokens: Record<string, number>
}

export interface EmulatorStats {
  /** Authenticated Graph `GET /{media-id}` calls (faulted ones included). */
  graphLookups: number
  /** Downloads whose body started (2xx with a body). */
  downloadsStarted: number
  /** Downloads whose body was sent in full. */
  downloadsCompleted: number
  /** Media body bytes written to sockets. */
  bytesSent: number
  webhooksSent: number
  /** Uploads Meta accepted (WhatsApp media, Messenger/Instagram attachments), and by `platform:account`. */
  uploads: number
  uploadsByAccount: Record<string, number>
  byMedia: Record<string, MediaCounters>
  /** Responses by route, then by HTTP status: `{ 'graph.lookup': { '200': 3, '401': 1 } }`. */
  requests: Record<string, Record<string, number>>
  /** Requests that carried an `Authorization` header, by route (`cdn.messenger` must stay 0). */
  authorized: Record<string, number>
}

export class StatsRecorder {
  private s = StatsRecorder.empty()

  private static empty(): EmulatorStats {
    return { graphLookups: 0, downloadsStarted: 0, downloadsCompleted: 0, bytesSent: 0, webhooksSent: 0, uploads: 0, uploadsByAccount: {}, byMedia: {}, requests: {}, authorized: {} }
  }

  private media(id: string): MediaCounters {
    let counters = this.s.byMedia[id]
    if (!counters) {
      counters = { lookups: 0, downloadsStarted: 0, downloadsCompleted: 0, bytesSent: 0, tokens: {} }
      this.s.byMedia[id] = counters
    }
    return counters
  }

  lookup(id: string, tokenLabel: string): void {
    this.s.graphLookups++
    this.media(id).lookups++
    this.tokenUsed(id, tokenLabel)
  }
  tokenUsed(id: string, tokenLabel: string): void {
    const tokens = this.media(id).tokens
    tokens[tokenLabel] = (tokens[tokenLabel] ?? 0) + 1
  }
  downloadStarted(id: string): void {
    this.s.downloadsStarted++
    this.media(id).downloadsStarted++
  }
  downloadCompleted(id: string): void {
    this.s.downloadsCompleted++
    this.media(id).downloadsCompleted++
  }
  bytes(id: string, n: number): void {
    this.s.bytesSent += n
    this.media(id).bytesSent += n
  }
  upload(platform: string, account: string): void {
    this.s.uploads++
    const key = `${platform}:${account}`
    this.s.uploadsByAccount[key] = (this.s.uploadsByAccount[key] ?? 0) + 1
  }
  webhookSent(): void {
    this.s.webhooksSent++
  }
  response(route: string, status: number): void {
    const byStatus = (this.s.requests[route] ??= {})
    byStatus[status] = (byStatus[status] ?? 0) + 1
  }

  authorized(route: string): void {
    this.s.authorized[route] = (this.s.authorized[route] ?? 0) + 1
  }

  snapshot(): EmulatorStats {
    return structuredClone(this.s)
  }

  reset(): void {
    this.s = StatsRecorder.empty()
  }
}
