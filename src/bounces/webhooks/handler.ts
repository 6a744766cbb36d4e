import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Verdict } from '../classify.js';

/** The providers whose webhooks `digest serve` takes, each at `/webhooks/<name>`. */
export const PROVIDERS = ['ses', 'postmark', 'mailgun', 'sendgrid', 'resend'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** What a handler reads of a request: its headers and its bytes as they came (signatures cover the bytes). */
export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One thing the provider says happened to one recipient. */
export interface WebhookEvent {
  /**
   * What the event is kept under, so that it applies once however often it is posted: the
   * provider's event id; for a soft bounce, the provider's id of the message, so that one message
   * counts once however many attempts the provider reports (see `eventKey`).
   */
  eventId: string;
  /** The recipient, as the provider names it; empty for events that name none digest needs. */
  email: string;
  /** The message's Message-ID, when the provider echoes it: digest's own names the issue. */
  messageId?: string;
  verdict: Verdict;
  /** The provider's name for what happened (`Bounce/HardBounce`, `failed/permanent`), for the log. */
  type: string;
}

/** A request taken (its events, perhaps none), or refused with the status to answer. */
export type WebhookResult =
  | {
      ok: true;
      events: WebhookEvent[];
      /** Something done that is not an event (an SNS subscription confirmed), for the log. */
      note?: string;
      /** Called once every event is applied: a handler that remembers requests (Mailgun's tokens) does so only then. */
      applied?: () => void;
    }
  | { ok: false; status: 400 | 401 | 403; reason: string };

export interface WebhookHandler {
  provider: Provider;
  /** Content types taken; JSON unless the provider says otherwise (SNS posts text/plain). */
  accepts: string[];
  handle(request: WebhookRequest): Promise<WebhookResult>;
}

/** How far a signed timestamp may be from now, either way, where the provider signs a fresh one per request. */
export const MAX_SKEW_MS = 5 * 60_000;

export function refuse(status: 400 | 401 | 403, reason: string): WebhookResult {
  return { ok: false, status, reason };
}

/** A header's one value (the first, if it came twice). */
export function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a signed Unix time in seconds is within `maxMs` of now, either way. */
export function fresh(seconds: string | number, maxMs: number, now = Date.now()): boolean {
  const value = typeof seconds === 'number' ? seconds : /^\d{1,12}$/.test(seconds) ? Number(seconds) : NaN;
  return Number.isFinite(value) && Math.abs(now - value * 1000) <= maxMs;
}

/** Two secrets compared in constant time, whatever their lengths (both are hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** A signature, as bytes, compared in constant time with the one computed. */
export function sameBytes(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The key an event is kept under. Soft bounces count towards making an address bounced, so each
 * message must count once: providers that retry a message report a temporary failure per attempt
 * (Mailgun's `failed`/`temporary`, Postmark's `Transient`), and then perhaps once more when they
 * give up. Keyed by the message, a second report about the same message is "received before".
 */
export function eventKey(verdict: Verdict, eventId: string, providerMessageId: string | undefined): string {
  return verdict.kind === 'soft' && providerMessageId ? `message:${providerMessageId}` : eventId;
}

/** A plain JSON object's fields, or undefined for anything else. */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A field that is a non-empty string (or a number, as JSON gives ids), as text. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}
