import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const register = fileURLToPath(new URL('../../nats/support/register-ts.mjs', import.meta.url));

export interface ScenarioResult {
  /** Everything the scenario reported, plus what the process-level traps caught. */
  [key: string]: unknown;
  uncaught: string[];
  unhandled: string[];
}

/**
 * Runs a scenario file (test/core/regressions/scenarios/*.ts) in its own Node process, so a crash-style
 * defect (an uncaught exception, an unhandled rejection) is observed by that process's listeners instead
 * of killing or confusing Jest. The child prints one `RESULT {json}` line. A child that does not report
 * within `limitMs` is killed (by its PID) and the outcome is "never settled".
 */
export function runScenario(name: string, limitMs = 20_000): Promise<ScenarioResult | 'never settled'> {
  return runChild(fileURLToPath(new URL(`../regressions/scenarios/${name}.ts`, import.meta.url)), limitMs);
}

/** Runs a TypeScript file in a child Node process; resolves with its first RESULT line (see runScenario). */
export async function runChild(file: string, limitMs: number, env: Record<string, string> = {}): Promise<ScenarioResult | 'never settled'> {
  const results = await runChildResults(file, limitMs, env);
  return results === 'never settled' ? results : results[0];
}

/** Runs a TypeScript file in a child Node process; resolves with all its RESULT lines, in order. */
export function runChildResults(file: string, limitMs: number, env: Record<string, string> = {}): Promise<ScenarioResult[] | 'never settled'> {
  const name = file;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--import', register, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('never settled');
    }, limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.startsWith('RESULT '));
      if (lines.length !== 0) resolve(lines.map((line) => JSON.parse(line.slice('RESULT '.length)) as ScenarioResult));
      else if (signal !== 'SIGKILL') reject(new Error(`scenario ${name} exited (code ${code}, signal ${signal}) without a RESULT line:\n${stdout}\n${stderr}`));
    });
  });
}
