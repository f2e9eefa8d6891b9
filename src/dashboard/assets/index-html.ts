/**
 * The dashboard's only page. Static: the data arrives through the /v1 API and is put into the
 * DOM with textContent by the scripts, never as HTML. No inline script or style (see the CSP).
 */
import { MEDIA_KINDS, MEDIA_STATUSES, PLATFORMS } from '../../media/record.js'

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const options = (values: readonly string[]) => values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`).join('')

export function renderIndexHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>mediagate</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/assets/style.css">
<script type="module" src="/dashboard/assets/app.js"></script>
</head>
<body>
<header class="top">
  <h1>mediagate</h1>
  <dl id="stats" class="stats" hidden aria-live="polite">
    <div><dt>pending</dt><dd id="stat-pending">–</dd></div>
    <div><dt>stored (1 h)</dt><dd id="stat-stored">–</dd></div>
    <div><dt>failed (1 h)</dt><dd id="stat-failed">–</dd></div>
    <div><dt>captures / min</dt><dd id="stat-rate">–</dd></div>
    <div><dt>oldest pending</dt><dd id="stat-oldest">–</dd></div>
  </dl>
  <form id="logout-form" class="logout" method="post" action="/dashboard/logout" hidden>
    <button type="submit">Sign out</button>
  </form>
</header>
<main>
  <section id="signin" class="signin" hidden>
    <h2>Sign in</h2>
    <form id="signin-form" method="post" action="/dashboard/session">
      <label>API key <input id="api-key" type="password" name="api_key" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
    </form>
    <p id="signin-error" class="error" role="alert" hidden>That key was not accepted.</p>
  </section>
  <section id="media" hidden>
    <form id="filters" class="filters" role="search">
      <label>platform <select name="platform"><option value="">any</option>${options(PLATFORMS)}</select></label>
      <label>status <select name="status"><option value="">any</option>${options(MEDIA_STATUSES)}</select></label>
      <label>kind <select name="kind"><option value="">any</option>${options(MEDIA_KINDS)}</select></label>
      <label>account <input name="account_id" type="text" autocomplete="off" spellcheck="false"></label>
      <label>message id <input name="message_id" type="search" autocomplete="off" spellcheck="false"></label>
      <label>received after <input name="received_after" type="datetime-local"></label>
      <label>received before <input name="received_before" type="datetime-local"></label>
      <button type="submit">Apply</button>
      <button type="reset">Clear</button>
    </form>
    <p id="list-error" class="error" role="alert" hidden></p>
    <ul id="gallery" class="gallery"></ul>
    <p id="empty" class="empty" hidden>No media match these filters.</p>
    <button id="load-more" type="button" hidden>Load more</button>
  </section>
  <dialog id="detail" class="detail" aria-labelledby="detail-title"></dialog>
</main>
</body>
</html>
`
}
