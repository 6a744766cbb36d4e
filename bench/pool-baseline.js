// The baseline for sending: nodemailer's own pool, 5 connections, building each message from the
// same HTML and text as digest sends. Usage: node pool-baseline.js PORT COUNT HTML TEXT
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

const [port, count, htmlFile, textFile] = process.argv.slice(2);
const html = readFileSync(htmlFile, 'utf8');
const text = readFileSync(textFile, 'utf8');
const transport = nodemailer.createTransport({ host: '127.0.0.1', port: Number(port), pool: true, maxConnections: 5, maxMessages: 500, ignoreTLS: true });
let next = 0;
const total = Number(count);
async function worker() {
  while (next < total) {
    const i = next++;
    await transport.sendMail({
      from: '"The Valley Ledger" <briefing@valleyledger.example>',
      to: `"Reader ${i}" <r${i}@example.org>`,
      subject: 'Swing bridge decision nears',
      html,
      text,
      headers: { 'List-Unsubscribe': `<https://valleyledger.example/u/${i}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
  }
}
await Promise.all(Array.from({ length: 5 }, worker));
transport.close();
