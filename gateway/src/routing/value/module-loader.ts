/**
 * A tenant-supplied value algorithm: an ES module whose default export is a
 * {@link ValueAlgorithm} (`name`, `version`, `compute(input)`). It is loaded and
 * checked once at start-up; a bad module stops the gateway with a clear message.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { ParleyError } from '@parley/shared/errors';
import type { ValueAlgorithm } from './types.js';

export async function loadValueModule(path: string, baseDir: string): Promise<ValueAlgorithm> {
  const file = resolve(baseDir, path);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new ParleyError(
      'invalid_config',
      `value module ${file}: cannot load: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const candidate = loaded.default as Partial<ValueAlgorithm> | undefined;
  if (
    !candidate ||
    typeof candidate.name !== 'string' ||
    typeof candidate.version !== 'string' ||
    typeof candidate.compute !== 'function'
  ) {
    throw new ParleyError(
      'invalid_config',
      `value module ${file}: the default export must be { name: string, version: string, compute(input) }`,
    );
  }
  return candidate as ValueAlgorithm;
}
