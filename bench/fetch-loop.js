// The baseline for the HTTP channel: a plain fetch loop that posts ready-made messages to an
// email API's raw-MIME endpoint (Mailgun's messages.mime form) with N requests in flight, and
// nothing else: no journal, no rendering, no retries. node bench/fetch-loop.js URL DIR CONCURRENCY
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, folder, concurrency] = process.argv.slice(2);
const files = readdirSync(folder).filter((name) => name.endsWith('.eml'));
const auth = `Basic ${Buffer.from('api:bench-key').toString('base64')}`;
let next = 0;
async function worker() {
  while (next < files.length) {
    const raw = readFileSync(join(folder, files[next++]));
    const to = /^To: .*?<?([^<>\s]+@[^<>\s]+)>?\r?$/m.exec(raw.toString('latin1'))?.[1] ?? 'reader@example.org';
    const form = new FormData();
    form.append('to', to);
    form.append('message', new Blob([raw]), 'message.mime');
    const response = await fetch(url, { method: 'POST', headers: { authorization: auth }, body: form });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await response.arrayBuffer();
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
