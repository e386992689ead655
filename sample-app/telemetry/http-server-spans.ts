import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A SERVER span per HTTP request (continuing an incoming W3C traceparent), active while Nest handles it,
 * so the events a controller publishes join the request's trace. A stand-in for
 * @opentelemetry/instrumentation-http, which the sample does not depend on.
 */
export function httpServerSpans(): (req: IncomingMessage & { path?: string }, res: ServerResponse, next: () => void) => void {
  const tracer = trace.getTracer('nestjs-event-bus-sample');
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers, headersGetter);
    const path = req.path ?? (req.url ?? '/').split('?')[0];
    const span = tracer.startSpan(
      `${req.method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path } },
      parent,
    );
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

const headersGetter = {
  get: (headers: IncomingHttpHeaders, key: string) => headers[key],
  keys: (headers: IncomingHttpHeaders) => Object.keys(headers),
};
