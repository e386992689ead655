import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { BackpressureError, EventBusClosedError, type EventBusError } from '../lib/index.js';

/**
 * A publish refused because the service is shutting down or overloaded is the client's cue to retry
 * later: 503 with Retry-After, not a 500.
 */
@Catch(EventBusClosedError, BackpressureError)
export class EventBusErrorsFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: EventBusError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    httpAdapter.setHeader(response, 'Retry-After', '1');
    httpAdapter.reply(
      response,
      { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: error.message },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}
