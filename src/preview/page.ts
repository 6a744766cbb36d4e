import { escapeHtml } from '../escape.js';

/**
 * The preview's own page: an inbox-like header, the email in a sandboxed frame with view switches,
 * the size against Gmail's clip, the findings, the sample reader and the test-send button. It
 * follows the server's events and reloads the frame in place, keeping the scroll position.
 */
export function previewPage(options: { token: string; title: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="digest-token" content="${escapeHtml(options.token)}">
<title>Preview · ${escapeHtml(options.title)}</title>
<style>
  :root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --accent: #1d4ed8; --bad: #b91c1c; --warn: #b45309; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--ink); background: #f8fafc; }
  header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 16px; background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
  header strong { font-size: 15px; }
  .views { display: flex; gap: 4px; }
  .views button, .send { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 5px 10px; font: inherit; cursor: pointer; }
  .views button[aria-pressed="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
  .send { background: var(--ink); color: #fff; border-color: var(--ink); }
  main { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 16px; padding: 16px; }
  @media (max-width: 1000px) { main { grid-template-columns: 1fr; } }
  .inbox { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin-bottom: 12px; }
  .inbox .from { font-weight: 600; }
  .inbox .subject { font-weight: 600; }
  .inbox .preheader { color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .stage { display: flex; justify-content: center; }
  iframe { border: 1px solid var(--line); border-radius: 8px; background: #fff; height: calc(100vh - 190px); min-height: 480px; width: 100%; max-width: 760px; }
  iframe.phone { width: 377px; } /* 375 px of screen inside the 1 px border */
  pre.part { width: 100%; max-width: 760px; white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 0; font: 13px/1.5 ui-monospace, Menlo, Consolas, monospace; height: calc(100vh - 190px); overflow: auto; }
  aside section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 12px; }
  aside h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 8px; }
  .meter { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; margin: 6px 0; }
  .meter span { display: block; height: 100%; background: #16a34a; }
  .meter.near span { background: var(--warn); } .meter.over span { background: var(--bad); }
  ul.findings { list-style: none; padding: 0; margin: 0; }
  ul.findings li { padding: 6px 0; border-top: 1px solid var(--line); }
  ul.findings li:first-child { border-top: 0; }
  .error { color: var(--bad); } .warning { color: var(--warn); }
  code { font: 12px ui-monospace, Menlo, monospace; }
  #problem { display: none; margin: 0 16px; padding: 10px 14px; border-radius: 8px; background: #fef2f2; color: var(--bad); border: 1px solid #fecaca; font-weight: 600; }
  #problem.shown { display: block; margin-top: 12px; }
  select { font: inherit; padding: 4px; }
  #sent, #preflight-status, .hint { color: var(--muted); margin: 6px 0; }
  .check { font-weight: 600; } .note { color: var(--muted); } .stale { color: var(--warn); }
</style>
</head>
<body>
<header>
  <strong>digest preview</strong>
  <div class="views" role="group" aria-label="View">
    <button data-view="desktop" aria-pressed="true">Desktop</button>
    <button data-view="phone" aria-pressed="false">Phone</button>
    <button data-view="dark" aria-pressed="false">Dark</button>
    <button data-view="text" aria-pressed="false">Text</button>
    <button data-view="source" aria-pressed="false">HTML</button>
  </div>
  <label>Reader <select id="reader"></select></label>
  <span id="status" aria-live="polite"></span>
</header>
<div id="problem" role="alert"></div>
<main>
  <div>
    <div class="inbox" aria-label="As an inbox shows it">
      <div class="from" id="from"></div>
      <div class="subject" id="subject"></div>
      <div class="preheader" id="preheader"></div>
    </div>
    <div class="stage" id="stage">
      <iframe id="frame" title="The email" sandbox="allow-same-origin allow-popups"></iframe>
    </div>
  </div>
  <aside>
    <section>
      <h2>Size</h2>
      <div class="meter" id="meter"><span></span></div>
      <div id="size"></div>
    </section>
    <section>
      <h2>Findings</h2>
      <ul class="findings" id="findings"></ul>
    </section>
    <section>
      <h2>Preflight</h2>
      <p class="hint">What inboxes will check: the sending domain, links and images, a spam filter, accessibility.</p>
      <button class="send" id="preflight">Run preflight</button>
      <div id="preflight-status" aria-live="polite"></div>
      <ul class="findings" id="preflight-findings"></ul>
    </section>
    <section>
      <h2>Test</h2>
      <div id="testto"></div>
      <button class="send" id="send">Send me a test</button>
      <div id="sent" aria-live="polite"></div>
    </section>
  </aside>
</main>
<script>
(() => {
  const token = document.querySelector('meta[name="digest-token"]').content;
  const $ = (id) => document.getElementById(id);
  let view = 'desktop';
  let state = null;

  function frameUrl() {
    const reader = $('reader').value || '0';
    return '/email.html?reader=' + encodeURIComponent(reader) + (view === 'dark' ? '&dark=1' : '') + '&v=' + (state ? state.version : 0);
  }

  async function showPart(path) {
    const stage = $('stage');
    let pre = stage.querySelector('pre');
    if (!pre) { pre = document.createElement('pre'); pre.className = 'part'; stage.appendChild(pre); }
    $('frame').hidden = true;
    pre.hidden = false;
    const reader = $('reader').value || '0';
    pre.textContent = await (await fetch(path + '?reader=' + encodeURIComponent(reader))).text();
  }

  function reloadFrame() {
    const frame = $('frame');
    const pre = $('stage').querySelector('pre');
    if (view === 'text') return showPart('/email.txt');
    if (view === 'source') return showPart('/source.html');
    if (pre) pre.hidden = true;
    frame.hidden = false;
    frame.className = view === 'phone' ? 'phone' : '';
    let y = 0;
    try { y = frame.contentWindow.scrollY; } catch (e) {}
    frame.onload = () => { try { frame.contentWindow.scrollTo(0, y); } catch (e) {} };
    frame.src = frameUrl();
  }

  function render() {
    if (!state) return;
    $('from').textContent = state.from || '(no sender configured)';
    $('subject').textContent = state.subject || '';
    $('preheader').textContent = state.preheader || '';
    const share = state.htmlBytes / state.clipBytes;
    const meter = $('meter');
    meter.className = 'meter' + (share > 1 ? ' over' : share >= 0.88 ? ' near' : '');
    meter.firstElementChild.style.width = Math.min(100, share * 100).toFixed(1) + '%';
    $('size').textContent = (state.htmlBytes / 1000).toFixed(1) + ' KB of Gmail\\'s ' + (state.clipBytes / 1000) + ' KB clip' + (state.buildMs ? ' · built in ' + Math.round(state.buildMs) + ' ms' : '');
    const list = $('findings');
    list.replaceChildren(...(state.diagnostics.length ? state.diagnostics.map((d) => {
      const li = document.createElement('li');
      li.innerHTML = '<span class="' + d.severity + '"></span> <code></code> <span class="msg"></span>';
      li.children[0].textContent = d.severity;
      li.children[1].textContent = d.code + (d.line ? ' · line ' + d.line : '');
      li.children[2].textContent = d.message;
      return li;
    }) : [Object.assign(document.createElement('li'), { textContent: 'Nothing to report.' })]));
    const problem = $('problem');
    if (state.error) {
      problem.textContent = (state.error.file || '') + (state.error.line ? ':' + state.error.line : '') + ': ' + state.error.message;
      problem.className = 'shown';
    } else { problem.className = ''; problem.textContent = ''; }
    const select = $('reader');
    if (!select.options.length) {
      state.readers.forEach((r, i) => select.add(new Option(r.label, String(i))));
    }
    $('testto').textContent = state.testAddresses.length ? 'To ' + state.testAddresses.join(', ') + ' via ' + state.transport : 'No testAddresses in the config.';
    $('send').disabled = !state.testAddresses.length || !!state.error;
    renderPreflight();
  }

  function finding(d) {
    const li = document.createElement('li');
    li.innerHTML = '<span class="' + d.severity + '"></span> <code></code> <span class="msg"></span>';
    li.children[0].textContent = d.severity;
    li.children[1].textContent = d.code + (d.line ? ' · ' + (d.file && !d.file.endsWith('.md') ? d.file.split('/').pop() + ' ' : '') + 'line ' + d.line : '');
    li.children[2].textContent = d.message;
    return li;
  }

  function renderPreflight() {
    const p = state.preflight;
    const items = [];
    for (const r of p.results) {
      const head = document.createElement('li');
      head.className = 'check';
      const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
      head.textContent = r.check + ': ' + (r.skipped ? 'skipped (' + r.skipped + ')' : errors + ' error' + (errors === 1 ? '' : 's') + ', ' + (r.diagnostics.length - errors) + ' warning' + (r.diagnostics.length - errors === 1 ? '' : 's') + ' · ' + r.ms + ' ms');
      items.push(head, ...r.diagnostics.map(finding));
      for (const note of r.notes) items.push(Object.assign(document.createElement('li'), { className: 'note', textContent: note }));
    }
    $('preflight-findings').replaceChildren(...items);
    $('preflight').disabled = p.running || !!state.error;
    const stale = !p.running && p.version !== undefined && p.version !== state.version;
    $('preflight-status').className = stale ? 'stale' : '';
    $('preflight-status').textContent = p.error ? 'Not run: ' + p.error
      : p.running ? 'Running' + (p.offline ? ' offline' : '') + '…'
      : stale ? 'From an earlier build: run it again.'
      : p.version !== undefined ? 'Done' + (p.offline ? ' (offline: the network checks were skipped)' : '') + '.' : '';
  }

  async function refresh() {
    state = await (await fetch('/api/state')).json();
    render();
    reloadFrame();
    $('status').textContent = state.error ? 'build failed' : 'updated ' + new Date().toLocaleTimeString();
  }

  document.querySelectorAll('[data-view]').forEach((button) => button.addEventListener('click', () => {
    view = button.dataset.view;
    document.querySelectorAll('[data-view]').forEach((b) => b.setAttribute('aria-pressed', String(b === button)));
    reloadFrame();
  }));
  $('reader').addEventListener('change', reloadFrame);
  $('send').addEventListener('click', async () => {
    $('sent').textContent = 'Sending…';
    const response = await fetch('/api/test-send', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-digest-token': token },
      body: JSON.stringify({ reader: Number($('reader').value || 0) }),
    });
    const body = await response.json();
    $('sent').textContent = response.ok ? 'Sent to ' + body.sent.map((s) => s.to).join(', ') + ' via ' + body.transport : 'Not sent: ' + body.error;
  });

  $('preflight').addEventListener('click', async () => {
    $('preflight').disabled = true;
    const response = await fetch('/api/preflight', { method: 'POST', headers: { 'x-digest-token': token } });
    if (!response.ok) $('preflight-status').textContent = 'Not run: ' + (await response.json()).error;
  });

  const events = new EventSource('/events');
  events.addEventListener('build', refresh);
  events.addEventListener('preflight', async () => {
    state = await (await fetch('/api/state')).json();
    render();
  });
  refresh();
})();
</script>
</body>
</html>
`;
}
