// The main entry must never load the optional NATS clients: follow every static and dynamic import
// from lib/index.ts and check none reaches @nats-io/* or lib/nats.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

function reachableFrom(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
        if (existsSync(target)) visit(target);
      } else {
        packages.add(specifier);
      }
    }
  };
  visit(entry);
  return { files, packages };
}

describe('entry points', () => {
  it('the main entry imports neither @nats-io/* nor lib/nats', () => {
    const { files, packages } = reachableFrom(resolve(root, 'lib/index.ts'));
    expect(files.size).toBeGreaterThan(5);
    expect([...packages].filter((p) => p.startsWith('@nats-io/'))).toEqual([]);
    expect([...files].filter((f) => f.includes('/lib/nats/'))).toEqual([]);
  });

  it('the nats entry is what brings them in', () => {
    const { packages } = reachableFrom(resolve(root, 'lib/nats/index.ts'));
    expect(packages).toContain('@nats-io/jetstream');
    expect(packages).toContain('@nats-io/transport-node');
  });
});
