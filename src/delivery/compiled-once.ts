import { CompiledQuery, type Kysely } from 'kysely';

const SLOT = '\u0000digest-slot:';

/**
 * A kysely query built and compiled once, then run many times with new values. The builder is
 * given `slot(name)` stand-ins where the values go; compiling finds where each landed among the
 * parameters (constants the builder added itself stay as they are). Per run only the parameter
 * list is filled: no query building, no SQL compiling, which cost more than the journal's
 * one-row updates themselves when they run once per message.
 */
export class CompiledOnce<Name extends string> {
  private readonly sql: string;
  private readonly slots: ({ name: Name } | { value: unknown })[];

  constructor(build: (slot: (name: Name) => string) => { compile(): CompiledQuery }) {
    const compiled = build((name) => `${SLOT}${name}`).compile();
    this.sql = compiled.sql;
    this.slots = compiled.parameters.map((parameter) =>
      typeof parameter === 'string' && parameter.startsWith(SLOT) ? { name: parameter.slice(SLOT.length) as Name } : { value: parameter },
    );
  }

  /** Runs on `db` (a transaction's, where one is open); resolves with the rows it changed. */
  async run(db: Kysely<any>, values: Record<Name, unknown>): Promise<number> {
    const parameters = this.slots.map((slot) => ('name' in slot ? values[slot.name] : slot.value));
    const result = await db.executeQuery(CompiledQuery.raw(this.sql, parameters));
    return Number(result.numAffectedRows ?? 0);
  }
}
