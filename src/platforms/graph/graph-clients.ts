/**
 * The Graph API clients of a gateway, one per access token. The token for an account is chosen
 * here and nowhere else: a WhatsApp number's own token from mediagate.config.json, else
 * WHATSAPP_ACCESS_TOKEN. Every path that talks to Meta about a media (eager capture, lazy and
 * proxy serving, `mediagate capture`, `mediagate fetch`) asks this registry.
 */
import type { AccountTokens } from '../../config/config-file.js'
import { whatsappTokenFor } from '../../config/config-file.js'
import type { Fetcher } from '../../fetch/index.js'
import { GraphMediaClient } from './graph-media-client.js'

export interface GraphClientsOptions {
  graphUrl: string
  version: string
  fetcher: Fetcher
  tokens: AccountTokens
  /** WHATSAPP_ACCESS_TOKEN: for numbers without a token of their own. */
  defaultToken: string | undefined
}

export class GraphClients {
  private readonly clients = new Map<string, GraphMediaClient>()

  constructor(private readonly options: GraphClientsOptions) {}

  /** The client for a WhatsApp number (phone_number_id), or undefined when no token applies to it. */
  forWhatsApp(phoneNumberId: string | null | undefined): GraphMediaClient | undefined {
    const { tokens, defaultToken } = this.options
    return this.withToken(phoneNumberId ? whatsappTokenFor(tokens, phoneNumberId, defaultToken) : defaultToken)
  }

  /**
   * The client with a page's (or Instagram account's) own token from mediagate.config.json, or
   * undefined: Messenger/Instagram need it only to re-fetch expired media, and never borrow the
   * WhatsApp token.
   */
  forPage(accountId: string): GraphMediaClient | undefined {
    return this.withToken(this.options.tokens.pages.get(accountId))
  }

  /** The client with WHATSAPP_ACCESS_TOKEN (`mediagate doctor`), or undefined when it is unset. */
  get default(): GraphMediaClient | undefined {
    return this.withToken(this.options.defaultToken)
  }

  private withToken(token: string | undefined): GraphMediaClient | undefined {
    if (!token) return undefined
    let client = this.clients.get(token)
    if (!client) {
      const { graphUrl, version, fetcher } = this.options
      client = new GraphMediaClient({ graphUrl, version, accessToken: token, fetcher })
      this.clients.set(token, client)
    }
    return client
  }
}
