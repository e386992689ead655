/** JSON schemas by class name, from class-validator (and class-transformer `@Type`) metadata. */
export type ClassSchemas = Record<string, Record<string, unknown>>;

/**
 * Every class-validator-decorated class's JSON schema, via `class-validator-jsonschema` (an optional peer,
 * loaded only here). Without it installed, no class schemas: event payloads stay undescribed unless
 * `@Event(name, { schema })` gives one.
 */
export async function loadClassSchemas(refPrefix: string): Promise<ClassSchemas> {
  let converter: { validationMetadatasToSchemas: (options?: object) => ClassSchemas };
  try {
    const loaded = await import('class-validator-jsonschema');
    converter = ((loaded as { default?: unknown }).default ?? loaded) as typeof converter;
  } catch {
    return {};
  }
  // class-transformer's metadata (`@Type(() => Line)`) lets nested objects and arrays be described.
  let classTransformerMetadataStorage: unknown;
  try {
    // @ts-expect-error: a deep CommonJS path without type declarations.
    const storage = await import('class-transformer/cjs/storage.js');
    classTransformerMetadataStorage = (storage.default ?? storage).defaultMetadataStorage;
  } catch {
    classTransformerMetadataStorage = undefined;
  }
  return converter.validationMetadatasToSchemas({
    refPointerPrefix: refPrefix,
    ...(classTransformerMetadataStorage === undefined ? {} : { classTransformerMetadataStorage }),
  });
}
