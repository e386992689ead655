import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  Header,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Redirect,
  Req,
  UseGuards,
  type CanActivate,
  type Type,
} from '@nestjs/common';
import type { DeadLetterRecord } from '../dead-letters/dead-letter.interface.js';
import { renderLive, renderPage } from './dashboard-page.js';
import type { DashboardState } from './dashboard-state.js';
import { DashboardService } from './dashboard.service.js';

const HTML = 'text/html; charset=utf-8';

/** Express and Fastify requests both carry the URL as received (`originalUrl` on Express, before any rewrite). */
interface RequestLike {
  originalUrl?: string;
  url?: string;
}

/**
 * The page's own URL path as the browser sees it (global prefix, versioning and mounts included), from
 * the URL of this request minus the route's own `suffix`: links and redirects then stay on the page.
 */
function baseOf(request: RequestLike, suffix: string): string {
  const url = (request.originalUrl ?? request.url ?? '/').split('?')[0].replace(/\/+$/, '');
  const base = suffix !== '' && url.endsWith(suffix) ? url.slice(0, -suffix.length) : url;
  return base;
}

function back(base: string, message: string): { url: string; statusCode: number } {
  return { url: `${base}?message=${encodeURIComponent(message)}`, statusCode: 303 };
}

/**
 * The events page's controller, made per `forRoot` because its path and guards are options. Pages and
 * JSON are GETs; redrive and purge are POSTs that must carry the page's token: as a form field (without
 * script: the answer is a redirect back to the page) or an `x-eb-dashboard-token` header (`/api/...`: JSON).
 */
export function createDashboardController(path: string, guards: (Type<CanActivate> | CanActivate)[]): Type<unknown> {
  @Controller(path.slice(1))
  @UseGuards(...guards)
  class EventBusDashboardController {
    constructor(@Inject(DashboardService) private readonly dashboard: DashboardService) {}

    @Get()
    @Header('content-type', HTML)
    @Header('cache-control', 'no-store')
    async page(@Req() request: RequestLike, @Query('message') message?: string): Promise<string> {
      const base = baseOf(request, '');
      return renderPage(await this.live(base), base, this.dashboard.token, typeof message === 'string' ? message.slice(0, 500) : undefined);
    }

    @Get('fragment')
    @Header('content-type', HTML)
    @Header('cache-control', 'no-store')
    fragment(@Req() request: RequestLike): Promise<string> {
      return this.live(baseOf(request, '/fragment'));
    }

    @Get('api/state')
    state(): Promise<DashboardState> {
      return this.dashboard.state();
    }

    @Get('asyncapi.json')
    asyncApi(): Promise<object> {
      return this.dashboard.asyncApi();
    }

    @Get('api/dead-letters/:id')
    async deadLetter(@Param('id') id: string): Promise<DeadLetterRecord> {
      const letter = await this.dashboard.deadLetter(id);
      if (letter === undefined) throw new NotFoundException(`No dead letter ${id}.`);
      return letter;
    }

    @Post('api/dead-letters/:id/redrive')
    @HttpCode(200)
    redriveJson(@Param('id') id: string, @Headers('x-eb-dashboard-token') token: string | undefined): Promise<object> {
      this.checkToken(token);
      return this.dashboard.redrive(id);
    }

    @Post('api/dead-letters/purge')
    @HttpCode(200)
    purgeJson(@Headers('x-eb-dashboard-token') token: string | undefined): Promise<object> {
      this.checkToken(token);
      return this.dashboard.purge();
    }

    @Post('dead-letters/:id/redrive')
    @Redirect()
    async redriveForm(
      @Req() request: RequestLike,
      @Param('id') id: string,
      @Body() body: { token?: string } | undefined,
    ): Promise<{ url: string; statusCode: number }> {
      this.checkToken(body?.token);
      return back(baseOf(request, `/dead-letters/${encodeURIComponent(id)}/redrive`), (await this.dashboard.redrive(id)).message);
    }

    @Post('dead-letters/purge')
    @Redirect()
    async purgeForm(@Req() request: RequestLike, @Body() body: { token?: string } | undefined): Promise<{ url: string; statusCode: number }> {
      this.checkToken(body?.token);
      return back(baseOf(request, '/dead-letters/purge'), (await this.dashboard.purge()).message);
    }

    private async live(base: string): Promise<string> {
      return renderLive(await this.dashboard.state(), base).replaceAll('__TOKEN__', this.dashboard.token);
    }

    private checkToken(token: unknown): void {
      if (token !== this.dashboard.token) {
        throw new ForbiddenException('Redrive and purge must come from the events page (its token is missing or stale: reload the page).');
      }
    }
  }
  return EventBusDashboardController;
}
