/** Media types as mediagate compares them: the base type, without parameters, lowercased. */

/** `audio/ogg; codecs=opus` → `audio/ogg`; null for anything that is not a type. */
export function baseType(mime: string | null | undefined): string | null {
  if (!mime) return null
  const base = mime.split(';')[0]?.trim().toLowerCase()
  return base && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(base) ? base : null
}
