/**
 * Imported first by every scenario run in a child process (see test/core/support/child-scenario.ts):
 * records uncaught exceptions and unhandled rejections instead of dying, and reports as one JSON line.
 */
const uncaught: string[] = [];
const unhandled: string[] = [];
process.on('uncaughtException', (error) => uncaught.push(describe(error)));
process.on('unhandledRejection', (reason) => unhandled.push(describe(reason)));

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Prints the result (plus what the traps caught) and exits, whatever the bus left running. */
export async function report(result: Record<string, unknown>): Promise<never> {
  // Let a stray timer-0 rethrow (RxJS reports subscriber errors that way) surface first.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  process.stdout.write(`RESULT ${JSON.stringify({ ...result, uncaught, unhandled })}\n`);
  process.exit(0);
}

/** Runs the scenario; an error thrown by the scenario itself is reported, not lost. */
export function scenario(body: () => Promise<Record<string, unknown>>): void {
  body().then(report, (error: unknown) => report({ scenarioError: describe(error) }));
}
