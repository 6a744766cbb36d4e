/**
 * The SMTP pool's promise to the journal: with `ready`, no byte of a message reaches the server
 * before the journal has committed its mark, and a message held back is never completed.
 */
import { describe, expect, it } from 'vitest';
import { SmtpPool } from '../../../src/delivery/channels/smtp-pool.js';
import { startSink } from '../../smtp-sink.js';

const message = Buffer.from('From: a@example.org\r\nTo: b@example.org\r\nSubject: gate\r\n\r\nBody line\r\n');
const envelope = { from: 'a@example.org', to: ['b@example.org'] };

describe('SmtpPool.send with ready', () => {
  it('sends the envelope at once but the message only once ready resolves true', async () => {
    const sink = await startSink();
    const pool = new SmtpPool({ url: sink.url, size: 1 });
    let readyAt = 0;
    const ready = new Promise<boolean>((done) => setTimeout(() => ((readyAt = Date.now()), done(true)), 300));
    await pool.send(envelope, [message], { transparent: true, ready });
    expect(sink.attempts.get('b@example.org')).toBe(1);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.at).toBeGreaterThanOrEqual(readyAt);
    pool.close();
    await sink.close();
  });

  it('abandons a message whose ready resolves false: the server gets the envelope and no message, and the pool goes on', async () => {
    const sink = await startSink();
    const pool = new SmtpPool({ url: sink.url, size: 1 });
    await expect(pool.send(envelope, [message], { transparent: true, ready: Promise.resolve(false) })).rejects.toMatchObject({ abandoned: true });
    await expect(pool.send(envelope, [message], { transparent: true, ready: Promise.reject(new Error('database gone')) })).rejects.toMatchObject({ abandoned: true });
    await new Promise((done) => setTimeout(done, 200));
    expect(sink.received).toHaveLength(0);
    expect(sink.unanswered).toHaveLength(0);
    // The next message goes out on a fresh connection as usual.
    await pool.send(envelope, [message], { transparent: true, ready: Promise.resolve(true) });
    expect(sink.received).toHaveLength(1);
    pool.close();
    await sink.close();
  });
});
