/** Media types as mediagate compares them: the base type, without parameters, lowercased. */

/** `audio/ogg; codecs=opus` → `audio/ogg`; null for anything that is not a type. */
export function baseType(mime: string | null | undefined): string | null {
  if (!mime) return null
  const base = mime.split(';')[0]?.trim().toLowerCase()
  return base && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(base) ? base : null
}

/** The kind bytes of this (sniffed) type are: image, video, audio, or a document; null when unknown. */
export function kindOfMime(mime: string | null | undefined): 'image' | 'video' | 'audio' | 'document' | null {
  const base = baseType(mime)
  if (!base) return null
  const top = base.split('/')[0]
  if (top === 'image' || top === 'video' || top === 'audio') return top
  return 'document'
}
