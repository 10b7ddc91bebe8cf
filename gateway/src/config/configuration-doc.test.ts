/**
 * docs/configuration.md stays true to the schema: every key the config accepts
 * has a row, with the default the schema really applies, and no row names a key
 * that is gone.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from './schema.js';

const DOC = new URL('../../../docs/configuration.md', import.meta.url);

interface Leaf {
  readonly path: string;
  readonly default: unknown;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The keys of a JSON schema, `a.b`, `<name>` for a record's keys, `[]` for arrays of objects. */
function leaves(schema: unknown, path: string, out: Map<string, Leaf>): void {
  if (!isObject(schema)) return;
  const branches = (schema['anyOf'] ?? schema['oneOf']) as unknown[] | undefined;
  if (Array.isArray(branches)) {
    const objects = branches.filter((b) => isObject(b) && b['type'] === 'object');
    if ('default' in schema || objects.length < branches.length) {
      if (!out.has(path)) out.set(path, { path, default: schema['default'] });
    }
    for (const b of objects) leaves(b, path, out);
    return;
  }
  const properties = schema['properties'];
  if (schema['type'] === 'object' && isObject(properties)) {
    for (const [key, value] of Object.entries(properties)) {
      leaves(value, path ? `${path}.${key}` : key, out);
    }
    return;
  }
  const additional = schema['additionalProperties'];
  if (schema['type'] === 'object' && isObject(additional)) {
    leaves(additional, `${path}.<name>`, out);
    return;
  }
  const items = schema['items'];
  if (schema['type'] === 'array' && isObject(items) && items['type'] === 'object') {
    leaves(items, `${path}[]`, out);
    return;
  }
  if (!out.has(path)) out.set(path, { path, default: schema['default'] });
}

function documentedRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of readFileSync(DOC, 'utf8').matchAll(/^\| `([^`]+)` \| ([^|]*?) \|/gm)) {
    if (m[1] && m[2] !== undefined) rows.set(m[1], m[2].trim());
  }
  return rows;
}

const simple = (v: unknown) =>
  ['string', 'number', 'boolean'].includes(typeof v) ||
  (Array.isArray(v) && v.every((x) => typeof x !== 'object'));

describe('docs/configuration.md', () => {
  const schemaLeaves = new Map<string, Leaf>();
  leaves(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }), '', schemaLeaves);
  const rows = documentedRows();

  it('has a row for every key the config accepts, with its real default', () => {
    const problems: string[] = [];
    for (const leaf of schemaLeaves.values()) {
      const documented = rows.get(leaf.path);
      if (documented === undefined) {
        problems.push(`${leaf.path}: no row`);
      } else if (leaf.default === undefined) {
        if (documented !== '—' && documented !== 'required') {
          problems.push(`${leaf.path}: no default, the doc says ${documented}`);
        }
      } else if (simple(leaf.default) && documented !== `\`${JSON.stringify(leaf.default)}\``) {
        problems.push(
          `${leaf.path}: default ${JSON.stringify(leaf.default)}, the doc says ${documented}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('names no key the config does not accept', () => {
    expect([...rows.keys()].filter((path) => !schemaLeaves.has(path))).toEqual([]);
  });
});
