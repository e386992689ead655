/**
 * Uncaught exceptions and unhandled rejections of this (child) process, as they happen. A program
 * clears the list when it starts and fails if anything is in it once it ended.
 */
export const processErrors: string[] = [];

process.on('uncaughtException', (error) => processErrors.push(`uncaught exception: ${describe(error)}`));
process.on('unhandledRejection', (reason) => processErrors.push(`unhandled rejection: ${describe(reason)}`));

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
