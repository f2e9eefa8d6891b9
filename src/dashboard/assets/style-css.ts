/** The dashboard's stylesheet. */
export const STYLE_CSS = String.raw`
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #f6f7f9; --card: #fff; --line: #d9dde3;
  --stored: #1a7f37; --pending: #9a6700; --failed: #cf222e; --deleted: #667085; --remote: #6639ba; --accent: #0b5cad; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e8eb; --muted: #9aa4b2; --bg: #14171c; --card: #1d2128; --line: #323844; --accent: #58a6ff; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
button { font: inherit; cursor: pointer; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { color: var(--failed); border-color: var(--failed); }
input, select { font: inherit; padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
[hidden] { display: none !important; }

.top { display: flex; flex-wrap: wrap; align-items: center; gap: 16px; padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--card); position: sticky; top: 0; z-index: 1; }
.top h1 { font-size: 18px; margin: 0; }
.stats { display: flex; flex-wrap: wrap; gap: 18px; margin: 0; flex: 1; }
.stats div { display: flex; flex-direction: column; }
.stats dt { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.stats dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.logout { margin-left: auto; }

main { padding: 16px; }
.signin { max-width: 360px; margin: 60px auto; padding: 20px; background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
.signin form { display: flex; flex-direction: column; gap: 10px; }
.signin label { display: flex; flex-direction: column; gap: 4px; }
.error { color: var(--failed); }
.empty { color: var(--muted); }

.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; margin-bottom: 16px; }
.filters label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }

.gallery { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; display: flex; flex-direction: column; }
.preview { height: 160px; display: flex; align-items: center; justify-content: center; background: rgba(127,127,127,.08); overflow: hidden; }
.preview img { max-width: 100%; max-height: 100%; object-fit: contain; cursor: zoom-in; }
.preview video { max-width: 100%; max-height: 100%; }
.preview audio { width: 95%; }
.placeholder { display: flex; flex-direction: column; align-items: center; gap: 4px; padding: 8px; text-align: center; color: var(--muted); overflow-wrap: anywhere; }
.placeholder .icon { font-size: 15px; font-weight: 700; letter-spacing: .05em; padding: 12px 10px; min-width: 56px; border: 2px solid var(--line); border-radius: 6px; }
.meta { padding: 8px 10px; display: flex; flex-direction: column; gap: 4px; }
.meta .line { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.meta .name { overflow-wrap: anywhere; }
.meta .when { color: var(--muted); font-size: 12px; }
.badge { font-size: 11px; padding: 1px 6px; border-radius: 10px; border: 1px solid var(--line); }
.status-stored { color: var(--stored); border-color: var(--stored); }
.status-pending { color: var(--pending); border-color: var(--pending); }
.status-failed { color: var(--failed); border-color: var(--failed); }
.status-deleted { color: var(--deleted); border-color: var(--deleted); }
.status-remote { color: var(--remote); border-color: var(--remote); }
#load-more { display: block; margin: 16px auto; }

.detail { width: min(900px, 95vw); max-height: 90vh; border: 1px solid var(--line); border-radius: 10px; background: var(--card); color: var(--fg); padding: 0; }
.detail::backdrop { background: rgba(0,0,0,.45); }
.detail header { display: flex; align-items: center; gap: 8px; padding: 10px 14px; border-bottom: 1px solid var(--line); }
.detail header h2 { font-size: 15px; margin: 0; flex: 1; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.detail .body { padding: 14px; display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.3fr); gap: 14px; }
.detail .preview { height: 260px; border-radius: 8px; }
.detail .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 10px; align-items: center; }
.detail .actions a { padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; color: var(--fg); text-decoration: none; }
.detail .link { width: 100%; margin-top: 8px; font-family: ui-monospace, monospace; font-size: 12px; }
.fields { margin: 0; display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 3px 12px; font-size: 13px; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: 12px; }
.verdict-ok { color: var(--stored); }
.verdict-bad { color: var(--failed); }
.notice { font-size: 12px; color: var(--muted); }
@media (max-width: 700px) { .detail .body { grid-template-columns: 1fr; } }
`
