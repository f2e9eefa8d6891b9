/**
 * Where clamd listens, from MEDIAGATE_CLAMAV_URL: `tcp://host:port` (clamd's `TCPSocket` and
 * `TCPAddr`) or `unix:/path/to/clamd.ctl` (its `LocalSocket`; Debian: /run/clamav/clamd.ctl).
 */

export type ClamdAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string }

/** Throws an Error whose message says what is wrong; the configuration loader names the variable. */
export function parseClamdAddress(raw: string): ClamdAddress {
  const value = raw.trim()
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length).replace(/^\/\/(?=\/)/, '')
    if (!path.startsWith('/')) throw new Error(`a unix socket needs an absolute path (unix:/run/clamav/clamd.ctl), got "${value}"`)
    return { kind: 'unix', path }
  }
  if (value.startsWith('tcp://')) {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new Error(`not a tcp://host:port address: "${value}"`)
    }
    const port = Number(url.port)
    if (!url.hostname || !url.port || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`needs a host and a port (tcp://127.0.0.1:3310), got "${value}"`)
    if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.username) throw new Error(`only tcp://host:port, got "${value}"`)
    return { kind: 'tcp', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port }
  }
  throw new Error(`must be tcp://host:port or unix:/path/to/clamd.ctl, got "${value}"`)
}

export function describeClamdAddress(address: ClamdAddress): string {
  return address.kind === 'tcp' ? `tcp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}` : `unix:${address.path}`
}
