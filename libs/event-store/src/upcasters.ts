/**
 * Stored events never change; old shapes are lifted to the current one when read.
 * An upcaster takes the data of (type, schemaVersion) and returns the data of schemaVersion + 1.
 */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

export class Upcasters {
  private readonly byKey = new Map<string, Upcaster>();

  register(type: string, fromSchemaVersion: number, upcast: Upcaster): this {
    const key = `${type}@${fromSchemaVersion}`;
    if (this.byKey.has(key)) throw new Error(`an upcaster for ${key} is already registered`);
    this.byKey.set(key, upcast);
    return this;
  }

  /** Applies upcasters until none is registered for the current version. */
  upcast(type: string, schemaVersion: number, data: Record<string, unknown>): { schemaVersion: number; data: Record<string, unknown> } {
    let version = schemaVersion;
    let current = data;
    for (let next = this.byKey.get(`${type}@${version}`); next; next = this.byKey.get(`${type}@${version}`)) {
      current = next(current);
      version += 1;
    }
    return { schemaVersion: version, data: current };
  }
}
