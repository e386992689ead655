/**
 * The testing entry point must not need Jest at run time (users may run Vitest or node:test): the
 * library is compiled to .tmp/ (git-ignored) and a node:test file exercises it in a child `node`
 * process, where no Jest global or module exists.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, '.tmp', `without-jest.${process.pid}`);

/** Compiles lib/ file by file to ES modules (the build's options; type errors are the typecheck script's business). */
function compileLib(): void {
  const config = ts.readConfigFile(join(root, 'tsconfig.build.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [join(dir, entry.name)] : [],
    );
  for (const file of walk(join(root, 'lib'))) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { ...options, module: ts.ModuleKind.ES2022, sourceMap: false }, fileName: file });
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  // The compiled files are ES modules: give them the package's "type".
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
}

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it('runs under node:test with no Jest loaded', async () => {
  compileLib();
  const run = promisify(execFile)(process.execPath, ['--test', '--test-reporter=tap', join(root, 'test/testing/fixtures/node-test-smoke.mjs')], {
    env: { ...process.env, LIB_DIR: join(outDir, 'lib'), NODE_OPTIONS: '' },
  });
  const { stdout } = await run.catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`node --test failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  expect(stdout).toMatch(/^# pass 1$/m);
  expect(stdout).toMatch(/^# fail 0$/m);
}, 60_000);

it('imports nothing from Jest at run time: only the core, Node, rxjs and @nestjs/testing', () => {
  const dir = join(root, 'lib/testing');
  const specifiers = readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) => {
      // Type-only imports are erased at compile time, so they cost users nothing at run time.
      const code = readFileSync(join(dir, name), 'utf8').replace(/^import type [^;]+;$/gm, '');
      return [...code.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]);
    });
  const external = [...new Set(specifiers.filter((s) => !s.startsWith('.')))].sort();
  // @nestjs/testing is imported on demand, by createEventTestingModule() only.
  expect(external).toEqual(['@nestjs/testing', 'node:util', 'rxjs']);
});
