/** Which optional API routes this gateway has (from GET /dashboard/session). */
import type { Features } from './types.js'

let features: Features = { links: false, delete: false }

export function setFeatures(f: Partial<Features> | null | undefined): void {
  features = { links: Boolean(f?.links), delete: Boolean(f?.delete) }
}

export const hasFeature = (name: keyof Features): boolean => features[name]
