import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface LineWaiter {
  pattern: RegExp;
  what: string;
  resolve: (match: RegExpMatchArray) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Colour codes Nest adds to its log lines (unless NO_COLOR is set): ignored when matching lines. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * One service of the distributed sample, run as a child `node` process: its output lines are kept
 * (and passed to `print`), and can be waited for.
 */
export class ServiceProcess {
  /** Every line the process wrote to stdout or stderr, colour codes removed. */
  readonly lines: string[] = [];
  /** Resolves when the process exited. */
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private waiters: LineWaiter[] = [];
  private exit: ProcessExit | undefined;

  constructor(
    readonly label: string,
    /** The script, or node's arguments (e.g. `['--import', preload, script]`). */
    script: string | readonly string[],
    env: NodeJS.ProcessEnv,
    private readonly print: (label: string, line: string) => void,
  ) {
    this.child = spawn(process.execPath, typeof script === 'string' ? [script] : [...script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': every line of output has been read by then.
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        for (const waiter of this.waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`${this.label} ${describeExit(this.exit)} before logging ${waiter.what}.${this.tail()}`));
        }
        this.waiters = [];
        resolve(this.exit);
      });
      this.child.once('error', (error) => {
        this.exit = { code: null, signal: null };
        resolve(this.exit);
        this.onLine(`could not start: ${error.message}`);
      });
    });
  }

  /** The first line (already written or still to come) matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const match = line.match(pattern);
      if (match !== null) return Promise.resolve(match);
    }
    if (this.exit !== undefined) {
      return Promise.reject(new Error(`${this.label} ${describeExit(this.exit)} before logging ${what}.${this.tail()}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label} did not log ${what} within ${timeoutMs}ms.${this.tail()}`));
      }, timeoutMs);
      const waiter: LineWaiter = { pattern, what, resolve, reject, timer };
      this.waiters.push(waiter);
    });
  }

  /**
   * Sends SIGTERM and waits for the process to exit; past `timeoutMs` it is killed (SIGKILL) and this
   * rejects. Resolves with how it exited (a graceful Nest shutdown exits 0).
   */
  async stop(timeoutMs: number): Promise<ProcessExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    const exit = await Promise.race([this.exited, expired]);
    clearTimeout(timer);
    if (exit !== undefined) return exit;
    this.child.kill('SIGKILL');
    await this.exited;
    throw new Error(`${this.label} did not exit within ${timeoutMs}ms of SIGTERM, and was killed.${this.tail()}`);
  }

  /** Kills the process at once if it is still running (clean-up after a failure). */
  async kill(): Promise<void> {
    if (this.exit !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private onLine(raw: string): void {
    const line = raw.replace(ANSI, '');
    this.lines.push(line);
    this.print(this.label, raw);
    for (const waiter of this.waiters) {
      const match = line.match(waiter.pattern);
      if (match === null) continue;
      clearTimeout(waiter.timer);
      waiter.resolve(match);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  private tail(): string {
    const last = this.lines.slice(-15);
    return last.length === 0 ? ' It wrote nothing.' : ` Its last lines:\n  ${last.join('\n  ')}`;
  }
}

export function describeExit({ code, signal }: ProcessExit): string {
  return signal !== null ? `was ended by ${signal}` : `exited with code ${code}`;
}
