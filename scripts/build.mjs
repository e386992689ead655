// npm run build: the package's dist/.
//   dist/cjs/  the one implementation, CommonJS (package.json "type": "commonjs"), with its declarations
//              and source maps pointing at lib/ (shipped).
//   dist/esm/  one ES-module wrapper per entry point that re-exports dist/cjs by name, so a process that
//              both imports and requires the package still has one copy of every class and DI token.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

rmSync(join(root, 'dist/cjs'), { recursive: true, force: true });
rmSync(join(root, 'dist/esm'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.types.json'], { cwd: root, stdio: 'inherit' });
writeFileSync(join(root, 'dist/cjs/package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

const require = createRequire(import.meta.url);
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue; // ./package.json
  const esm = target.import.default; // ./dist/esm/<path>.js
  const cjs = target.require.default; // ./dist/cjs/<path>.js
  // Named exports read from the built module itself (every peer is a devDependency here): Node's
  // static detection of CommonJS names would be the other way, and it cannot follow every tsc pattern.
  const names = Object.keys(require(join(root, cjs))).filter((name) => name !== 'default' && name !== '__esModule');
  if (names.length === 0) throw new Error(`${subpath}: ${cjs} exports nothing`);
  const file = join(root, esm);
  mkdirSync(dirname(file), { recursive: true });
  let spec = relative(dirname(file), join(root, cjs)).replaceAll('\\', '/');
  if (!spec.startsWith('.')) spec = './' + spec;
  writeFileSync(file, `import cjs from '${spec}';\nexport const { ${names.join(', ')} } = cjs;\n`);
  writeFileSync(file.replace(/\.js$/, '.d.ts'), `export * from '${spec}';\n`);
}
