/**
 * What the widget costs a page: the built files in widget/dist, minified as
 * shipped and gzipped (level 9, as widget/scripts/size.mjs measures): parley.js
 * (first load), the lazy call-stack chunk it imports on the first click, and
 * desk.js (the agents' desk, its own page) when built.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export interface FileBytes {
  readonly file: string;
  readonly role: 'first load' | 'lazy call stack' | 'desk' | 'other chunk';
  readonly minBytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
}

export interface WidgetBytes {
  readonly dist: string;
  readonly builtAt: string;
  readonly files: readonly FileBytes[];
}

export function measureWidgetBytes(dist: string): WidgetBytes {
  if (!existsSync(join(dist, 'parley.js'))) throw new Error(`no parley.js in ${dist}`);
  const first = readFileSync(join(dist, 'parley.js'), 'utf8');
  // The chunks parley.js loads with import('./…'): the call stack (sip.js and the client).
  const lazy = new Set(
    [...first.matchAll(/import\(\s*[`'"]\.\/([^`'"]+\.js)[`'"]\s*\)/g)].map((m) => m[1]),
  );
  const files = readdirSync(dist)
    .filter((f) => f.endsWith('.js'))
    .map((file): FileBytes => {
      const bytes = readFileSync(join(dist, file));
      const role: FileBytes['role'] =
        file === 'parley.js'
          ? 'first load'
          : file === 'desk.js'
            ? 'desk'
            : lazy.has(file)
              ? 'lazy call stack'
              : 'other chunk';
      return {
        file,
        role,
        minBytes: bytes.length,
        gzipBytes: gzipSync(bytes, { level: 9 }).length,
        brotliBytes: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })
          .length,
      };
    });
  const order = ['first load', 'lazy call stack', 'other chunk', 'desk'];
  files.sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role));
  return { dist, builtAt: statSync(join(dist, 'parley.js')).mtime.toISOString(), files };
}
