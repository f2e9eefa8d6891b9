/**
 * Request ids as fastify makes them (`req-1`, `req-2`, … in base 36, wrapping before V8's small
 * integers end), from one sequence shared by fastify's routes and the route served ahead of it,
 * so that no two requests of one process share an id.
 */
const MAX_SMI = 2147483647

export function requestIds(): () => string {
  let next = 0
  return () => {
    next = (next + 1) & MAX_SMI
    return `req-${next.toString(36)}`
  }
}

/** A header's value as fastify reads X-Request-Id: the string, or the first of a repeated one. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
