/**
 * Runs the Jest example of the README's "Testing your handlers" section as part of this suite, so the
 * documentation cannot drift from the library.
 *
 * How: the first ```ts block between the section markers is extracted, its package imports are pointed
 * at the sources (`nestjs-event-bus` -> lib/index.ts, `nestjs-event-bus/testing` -> lib/testing/index.ts),
 * and it is written to .tmp/ (already git-ignored, and outside Jest's `roots`, so never collected on its
 * own). It is then type-checked with the project's compiler options, and imported from this module's
 * top level: its describe()/it() calls register into this file, so its tests run and report here, in
 * this process, under Jest's normal ESM transform. The file name carries the process id, so parallel
 * runs in one tree do not collide; it is removed afterwards.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const exampleFile = join(root, '.tmp', `readme-testing-example.${process.pid}.ts`);

/** The first ```ts block of the README's testing section. */
function extractExample(readme: string): string {
  const section = /<!-- section:testing -->([\s\S]*?)<!-- \/section:testing -->/.exec(readme);
  if (section === null) throw new Error('README.md has no <!-- section:testing --> ... <!-- /section:testing --> region.');
  const block = /```ts\n([\s\S]*?)```/.exec(section[1]);
  if (block === null) throw new Error('The README testing section has no ```ts code block.');
  return block[1];
}

/** Points the package's own imports at its sources, as the example is not run from node_modules. */
function pointAtSources(code: string): string {
  const rewritten = code
    .replace(/from 'nestjs-event-bus\/testing'/g, "from '../lib/testing/index.js'")
    .replace(/from 'nestjs-event-bus'/g, "from '../lib/index.js'");
  if (!rewritten.includes("'../lib/testing/index.js'")) throw new Error("The README example does not import from 'nestjs-event-bus/testing'.");
  return rewritten;
}

function typeErrors(file: string): string[] {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram([file], { ...options, noEmit: true });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || d.file.fileName === file)
    .map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${where ? `line ${where.line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

const example = pointAtSources(extractExample(readFileSync(join(root, 'README.md'), 'utf8')));
mkdirSync(dirname(exampleFile), { recursive: true });
writeFileSync(exampleFile, example);
afterAll(() => rmSync(exampleFile, { force: true }));

describe('README "Testing your handlers" example', () => {
  it('type-checks with the project settings', () => {
    expect(typeErrors(exampleFile)).toEqual([]);
  });
});

// Registers the example's own describe() blocks into this file.
await import(exampleFile);
