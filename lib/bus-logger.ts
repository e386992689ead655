import { Logger, type LoggerService } from '@nestjs/common';

const CONTEXT = 'EventBus';
const silent = (): void => undefined;

/** The bus's logger from the `logger` option: Nest's Logger by default, a user's LoggerService, or silence. */
export function createBusLogger(option: LoggerService | false | undefined): LoggerService {
  if (option === false) return { log: silent, error: silent, warn: silent, debug: silent, verbose: silent };
  if (option === undefined) return new Logger(CONTEXT);
  return {
    log: (message: unknown) => option.log(message, CONTEXT),
    error: (message: unknown, stack?: string) => option.error(message, stack, CONTEXT),
    warn: (message: unknown) => option.warn(message, CONTEXT),
    debug: (message: unknown) => option.debug?.(message, CONTEXT),
    verbose: (message: unknown) => option.verbose?.(message, CONTEXT),
  };
}
