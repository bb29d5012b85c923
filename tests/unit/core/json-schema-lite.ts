/**
 * A tiny JSON Schema (draft 2020-12) validator for exactly the keywords schema/manifest.schema.json
 * uses: type (string or list), const, enum, properties, required, additionalProperties (false or
 * a schema), items, minItems, minimum, maximum, minLength, pattern, $ref to "#/$defs/…".
 * Annotation keywords ($schema, $id, title, description, format) are accepted and ignored.
 * Any other keyword throws, so the schema cannot silently outgrow this validator.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: unknown };

const KNOWN = new Set([
  '$schema', '$id', '$defs', '$ref', 'title', 'description', 'format',
  'type', 'const', 'enum', 'properties', 'required', 'additionalProperties', 'items',
  'minItems', 'minimum', 'maximum', 'minLength', 'pattern',
]);

function typeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: Json, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const resolve = (ref: string): Schema => {
    const m = /^#\/\$defs\/([^/]+)$/.exec(ref);
    const defs = root.$defs as Record<string, Schema> | undefined;
    if (!m || !defs?.[m[1]]) throw new Error(`unsupported $ref ${ref}`);
    return defs[m[1]];
  };
  const walk = (schema: Schema, v: Json, at: string): void => {
    for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`unsupported keyword ${k} at ${at}`);
    if (typeof schema.$ref === 'string') walk(resolve(schema.$ref), v, at);
    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
      if (!types.some((t) => typeMatches(v, t))) {
        errors.push(`${at}: expected ${types.join('|')}, got ${typeOf(v)}`);
        return;
      }
    }
    if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(v)) {
      errors.push(`${at}: expected ${JSON.stringify(schema.const)}`);
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
      errors.push(`${at}: ${JSON.stringify(v)} not in ${JSON.stringify(schema.enum)}`);
    }
    if (typeof v === 'number') {
      if (typeof schema.minimum === 'number' && v < schema.minimum) errors.push(`${at}: below ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && v > schema.maximum) errors.push(`${at}: above ${schema.maximum}`);
    }
    if (typeof v === 'string') {
      // minLength counts code points, as the spec says.
      if (typeof schema.minLength === 'number' && [...v].length < schema.minLength) errors.push(`${at}: too short`);
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v)) {
        errors.push(`${at}: does not match ${schema.pattern}`);
      }
    }
    if (Array.isArray(v)) {
      if (typeof schema.minItems === 'number' && v.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
      if (schema.items) v.forEach((x, i) => walk(schema.items as Schema, x, `${at}[${i}]`));
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      for (const r of (schema.required ?? []) as string[]) if (!Object.hasOwn(v, r)) errors.push(`${at}: missing ${r}`);
      for (const [k, x] of Object.entries(v)) {
        if (Object.hasOwn(props, k)) walk(props[k], x, `${at}.${k}`);
        else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property ${k}`);
        else if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties as Schema, x, `${at}.${k}`);
      }
    }
  };
  walk(root, value as Json, '$');
  return errors;
}
