import { checkAddress } from '../audience/address.js';
import { emailKey } from '../audience/key.js';
import type { SubscriberStore } from '../audience/store.js';
import { UserError } from '../errors.js';
import { seal, sealKey, unseal, type SealKey } from '../seal.js';
import { countPending } from './pending.js';

/** What a reader asked for: an address, a name, and the consent they were shown. */
export interface SignupRequest {
  email: string;
  name?: string | null;
  /** `form`, or the origin of the page the form was embedded in. */
  source: string;
  consentVersion?: string | null;
  /** Kept only when the config asks for it. */
  ip?: string | null;
}

/**
 * What a request leads to. The answer the reader sees is the same in every case, so nobody can
 * learn who is on the list; only `mail` sends anything (the confirmation, with this token).
 */
export type RequestOutcome = { kind: 'mail'; email: string; token: string } | { kind: 'quiet'; why: 'subscribed' | 'recently-mailed' };

export type ConfirmOutcome =
  | { kind: 'confirmed'; email: string; name: string | null }
  /** Confirmed before: nothing changes (a replay, a second click, a reader who left since). */
  | { kind: 'already' }
  | { kind: 'expired' }
  /** Forged, altered, truncated, or for a request no longer on record. */
  | { kind: 'invalid' };

export interface LedgerOptions {
  /** How long a confirmation link works; pending requests older than this are purged. */
  ttlMs?: number;
  /** At most one confirmation email per address in this time. */
  resendAfterMs?: number;
  /** Tags every confirmed reader gets, so the issues' audiences reach them. */
  tags?: string[];
}

const VERSION = 's1';
const DAY = 24 * 60 * 60_000;

export type SignupKey = SealKey & { readonly __purpose?: 'signup' };

export function signupKey(secret: string | undefined): SignupKey {
  return sealKey(secret, 'signup token v1');
}

/**
 * Double opt-in: a request is written down (the `signups` table, beside the list) and answered by
 * a confirmation email whose sealed token names that request; only its confirmation puts the
 * address on the list, as `subscribed` with fresh consent. That is also the one way back for an
 * address that unsubscribed, bounced, complained or was erased: no import or `add` skips it.
 */
export class SignupLedger {
  private readonly ttlMs: number;
  private readonly resendAfterMs: number;
  private readonly tags: string[];

  constructor(
    private readonly store: SubscriberStore,
    private readonly key: SignupKey,
    options: LedgerOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 7 * DAY;
    this.resendAfterMs = options.resendAfterMs ?? 10 * 60_000;
    this.tags = options.tags ?? [];
  }

  private get db() {
    return this.store.dialect.db;
  }

  async request(input: SignupRequest, now = new Date()): Promise<RequestOutcome> {
    const checked = checkAddress(input.email.trim());
    if (!checked.ok) throw new UserError(`${input.email.trim() || 'an empty address'} is not an address mail can reach: ${checked.reason}`, { code: 'invalid-address' });
    const email = checked.address;
    const key = emailKey(email);
    if ((await this.store.get(email))?.status === 'subscribed') return { kind: 'quiet', why: 'subscribed' };
    const last = await this.db
      .selectFrom('signups')
      .select('requested_at')
      .where('email_key', '=', key)
      .orderBy('requested_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (last && Date.parse(last.requested_at) > now.getTime() - this.resendAfterMs) return { kind: 'quiet', why: 'recently-mailed' };
    const requestedAt = now.toISOString();
    try {
      await this.db
        .insertInto('signups')
        .values({
          email_key: key,
          requested_at: requestedAt,
          email,
          name: input.name?.trim() || null,
          source: input.source,
          consent_version: input.consentVersion ?? null,
          ip: input.ip ?? null,
          confirmed_at: null,
        })
        .execute();
    } catch (error) {
      // The same address in the same millisecond: the other request mails it.
      if (await this.requested(key, requestedAt)) return { kind: 'quiet', why: 'recently-mailed' };
      throw error;
    }
    return { kind: 'mail', email, token: seal(VERSION, { e: email, r: requestedAt }, this.key) };
  }

  /** What confirm() would do with this token, changing nothing: for the page a GET shows. */
  async inspect(token: string, now = new Date()): Promise<ConfirmOutcome> {
    const found = await this.find(token, now);
    if (!found.row) return { kind: found.kind! };
    return found.row.confirmed_at ? { kind: 'already' } : { kind: 'confirmed', email: found.row.email, name: found.row.name };
  }

  /** Puts the address on the list if the token names a request still open and not expired. */
  async confirm(token: string, now = new Date()): Promise<ConfirmOutcome> {
    const found = await this.find(token, now);
    if (!found.row) return { kind: found.kind! };
    const { row, key, claim } = found;
    if (row.confirmed_at) return { kind: 'already' };
    const at = now.toISOString();
    // The owner's own confirmation is the one thing that lifts an erasure.
    if (await this.store.isErased(row.email)) await this.store.forgetErasure(row.email);
    await this.store.upsert([{ email: row.email, name: row.name, status: 'subscribed', tags: this.tags, consentSource: row.source, consentAt: at, international: !/^[\x00-\x7f]*$/.test(row.email) }], {
      resubscribe: true,
      source: row.source,
      now: at,
    });
    const marked = await this.db
      .updateTable('signups')
      .set({ confirmed_at: at })
      .where('email_key', '=', key)
      .where('requested_at', '=', claim.r)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    // Two presses at once both subscribe (the same change twice); only one is the confirmation.
    if (Number(marked.numUpdatedRows) === 0) return { kind: 'already' };
    return { kind: 'confirmed', email: row.email, name: row.name };
  }

  /** Addresses that asked and have not confirmed, within the token's life (see pending.ts). */
  async pending(now = new Date()): Promise<number> {
    return countPending(this.db, new Date(now.getTime() - this.ttlMs));
  }

  /** Forgets requests never confirmed within the token's life: their addresses are kept no longer. */
  async purge(now = new Date()): Promise<number> {
    const result = await this.db
      .deleteFrom('signups')
      .where('confirmed_at', 'is', null)
      .where('requested_at', '<=', new Date(now.getTime() - this.ttlMs).toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private async find(token: string, now: Date) {
    const claim = unseal(VERSION, token, this.key) as { e?: unknown; r?: unknown } | undefined;
    if (typeof claim?.e !== 'string' || typeof claim.r !== 'string' || Number.isNaN(Date.parse(claim.r))) return { kind: 'invalid' as const };
    if (Date.parse(claim.r) <= now.getTime() - this.ttlMs) return { kind: 'expired' as const };
    const key = emailKey(claim.e);
    const row = await this.db.selectFrom('signups').selectAll().where('email_key', '=', key).where('requested_at', '=', claim.r).executeTakeFirst();
    if (!row) return { kind: 'invalid' as const };
    return { row, key, claim: { e: claim.e, r: claim.r } };
  }

  private async requested(key: string, requestedAt: string): Promise<boolean> {
    return Boolean(await this.db.selectFrom('signups').select('email_key').where('email_key', '=', key).where('requested_at', '=', requestedAt).executeTakeFirst());
  }
}
