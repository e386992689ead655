import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample.config.js';

/**
 * The events page's guard: HTTP basic authentication as user "ops" with OPS_PASSWORD. A real service
 * would use its own authentication guard here (the page takes any Nest guard).
 */
@Injectable()
export class OpsGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(SAMPLE_CONFIG) config: SampleConfig) {
    this.expected = Buffer.from(`Basic ${Buffer.from(`ops:${config.opsPassword}`).toString('base64')}`);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length === this.expected.length && timingSafeEqual(given, this.expected)) return true;
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    // Makes a browser ask for the user name and password.
    response.setHeader('WWW-Authenticate', 'Basic realm="events", charset="UTF-8"');
    throw new UnauthorizedException('The events page needs the ops user name and password.');
  }
}
