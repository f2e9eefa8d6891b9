/** Browser module `api.js`: the /v1 API and the session endpoints, signed in by cookie. */
export const API_JS = String.raw`
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The session cookie goes along by itself; state-changing calls add the CSRF header the API
// demands of cookie-authenticated requests.
export async function api(path, options = {}) {
  const method = options.method || 'GET';
  const headers = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['x-mediagate-csrf'] = '1';
  let body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    if (res.status === 401 && !options.quiet) window.dispatchEvent(new CustomEvent('mediagate:signed-out'));
    throw new ApiError(res.status, err.code || 'http_' + res.status, err.message || 'HTTP ' + res.status);
  }
  return data;
}

export function mediaUrl(id) {
  return '/v1/media/' + encodeURIComponent(id);
}

export function contentUrl(id) {
  return mediaUrl(id) + '/content';
}
`
