// The operations tools load their optional peers only from their own entry points: follow every static
// and dynamic import and check where class-validator-jsonschema (and the NATS clients) can be reached from.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

/** Every file and package an entry reaches through relative imports. */
function packagesReachableFrom(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier.startsWith('.')) packages.add(specifier);
      else {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
        if (existsSync(target)) visit(target);
      }
    }
  };
  visit(resolve(root, entry));
  return { files: [...files].map((f) => f.slice(root.length + 1)), packages: [...packages] };
}

const optionalPeers = (packages: string[]) => packages.filter((p) => /^(class-validator|class-transformer|@nats-io\/|@asyncapi\/|playwright)/.test(p));

describe('operations entry points', () => {
  it('the main entry (DeadLetters included) loads no optional peer, and neither the AsyncAPI nor the dashboard code', () => {
    const { files, packages } = packagesReachableFrom('lib/index.ts');
    expect(files).toContain('lib/dead-letters/dead-letters.ts');
    expect(optionalPeers(packages)).toEqual([]);
    expect(files.filter((f) => f.startsWith('lib/asyncapi/') || f.startsWith('lib/dashboard/') || f.startsWith('lib/nats/'))).toEqual([]);
  });

  it('class-validator-jsonschema is loaded by the asyncapi entry (and the dashboard through it), never the NATS clients', () => {
    for (const entry of ['lib/asyncapi/index.ts', 'lib/dashboard/index.ts']) {
      const { packages } = packagesReachableFrom(entry);
      expect(optionalPeers(packages).sort()).toEqual(['class-transformer/cjs/storage.js', 'class-validator-jsonschema']);
    }
  });
});
