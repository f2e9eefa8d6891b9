/**
 * The W3C `traceparent` of the webhook span that created a media record (null when tracing was
 * off), so the capture span, which runs later and perhaps in another process, links back to it.
 */
import type { Migration } from './index.js'

export const traceParent: Migration = {
  version: 10,
  name: 'trace_parent',
  up({ qb }) {
    return [qb.schema.alterTable('media').addColumn('trace_parent', 'text').compile()]
  },
  down({ qb }) {
    return [qb.schema.alterTable('media').dropColumn('trace_parent').compile()]
  },
}
