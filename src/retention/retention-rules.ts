/** How long each platform's media are kept: the per-platform setting, else the global one; 0 or unset is forever. */
import type { Config } from '../config/options.js'
import { PLATFORMS, type Platform } from '../media/record.js'

export type RetentionRules = Partial<Record<Platform, number>>

type RetentionConfig = Pick<Config, 'retentionDays' | 'retentionDaysWhatsapp' | 'retentionDaysMessenger' | 'retentionDaysInstagram'>

export function retentionRules(config: RetentionConfig): RetentionRules {
  const perPlatform: Record<Platform, number | undefined> = {
    whatsapp: config.retentionDaysWhatsapp,
    messenger: config.retentionDaysMessenger,
    instagram: config.retentionDaysInstagram,
  }
  const rules: RetentionRules = {}
  for (const platform of PLATFORMS) {
    const days = perPlatform[platform] ?? config.retentionDays
    if (days !== undefined && days > 0) rules[platform] = days
  }
  return rules
}
