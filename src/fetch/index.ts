/** The guarded fetcher: the only way bytes come into mediagate from outside. */
export { Fetcher, type FetcherOptions, type FetchMethod, type FetchRequest, type FetchResponse } from './fetcher.js'
export { assertWithinLimit, discard, lengthHeld, readBody, readWhole } from './body.js'
export { HostPolicy, canonicalHost, hostMatchesAny } from './host-policy.js'
export { isPublicAddress } from './address-policy.js'
export { redactUrl } from './fetch-errors.js'
export { downloadError, type DownloadErrorContext } from './download-error.js'
export { parseRetryAfter } from './retry-after.js'
