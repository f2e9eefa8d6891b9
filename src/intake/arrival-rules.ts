/**
 * What a media gets on arrival beyond what its webhook says: the storage policy it is kept
 * under, and for WhatsApp numbers on Meta's No-Storage option, its one-hour capture deadline.
 *
 * The policy table is read top to bottom and the first rule that matches wins, so a rule for
 * some sources of a platform (Instagram stories) goes above the platform's own. Adding another
 * source-specific rule is one line in `policyTable` (and its option in src/config/options.ts).
 */
import type { Config } from '../config/options.js'
import type { NewMedia, Platform, StoragePolicy } from '../media/record.js'

export interface PolicyRule {
  platform: Platform
  /** The platform's own attachment types this rule is for; omitted: every media of the platform. */
  sourceTypes?: readonly string[]
  policy: StoragePolicy
}

/** Instagram forbids storing story media: "You must not store/cache the media content on your server" [N7]. */
export const INSTAGRAM_STORY_TYPES = ['story_mention', 'ig_story'] as const

export function policyTable(config: Pick<Config, 'policyWhatsapp' | 'policyMessenger' | 'policyInstagram' | 'policyInstagramStory'>): PolicyRule[] {
  return [
    { platform: 'instagram', sourceTypes: INSTAGRAM_STORY_TYPES, policy: config.policyInstagramStory },
    { platform: 'whatsapp', policy: config.policyWhatsapp },
    { platform: 'messenger', policy: config.policyMessenger },
    { platform: 'instagram', policy: config.policyInstagram },
  ]
}

export function policyFor(rules: readonly PolicyRule[], media: Pick<NewMedia, 'platform' | 'sourceType'>): StoragePolicy {
  const rule = rules.find((r) => r.platform === media.platform && (r.sourceTypes === undefined || r.sourceTypes.includes(media.sourceType)))
  return rule?.policy ?? 'eager'
}

/** Media of a No-Storage number live at Meta "for a maximum of 1 hour" [N5]. */
export const NO_STORAGE_TTL_MS = 60 * 60 * 1000

/**
 * The media as recorded: its policy, and for a WhatsApp number on No-Storage a capture deadline
 * one hour after receipt instead of the media id's 7 days.
 */
export function onArrival(media: NewMedia, rules: readonly PolicyRule[], noStorage: ReadonlySet<string>, receivedAt: Date): NewMedia {
  const policy = policyFor(rules, media)
  if (media.platform !== 'whatsapp' || !noStorage.has(media.accountId) || media.sourceExpiresAt === null) return { ...media, policy }
  const hour = new Date(receivedAt.getTime() + NO_STORAGE_TTL_MS)
  return { ...media, policy, sourceExpiresAt: hour < media.sourceExpiresAt ? hour : media.sourceExpiresAt }
}
