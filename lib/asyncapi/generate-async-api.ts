import type { INestApplicationContext } from '@nestjs/common';
import { compilePattern, type EventClass } from '../event-name.js';
import { eventOptionsOfClass } from '../event.decorator.js';
import { loadClassSchemas } from './class-schemas.js';
import { collectTopology, type EventTopology, type TopologySubscription } from './event-topology.js';

/** What the document says about the service, and what the code cannot tell. */
export interface AsyncApiOptions {
  /** AsyncAPI `info`: a title and a version at least. */
  info: { title: string; version: string; description?: string };
  /** Who publishes which event (e.g. `{ 'order.placed': ['OrdersService.place'] }`): the code does not say. */
  publishers?: Record<string, readonly string[]>;
  /** JSON schemas of events published by name (no class to derive one from), by event name. */
  schemas?: Record<string, Record<string, unknown>>;
  /** Events this service publishes but does not handle (classes or names), so they are documented too. */
  events?: readonly (string | EventClass)[];
}

export type AsyncApiDocument = Record<string, unknown> & { asyncapi: '3.0.0' };

const SCHEMA_REF = '#/components/schemas/';

/**
 * An AsyncAPI 3.0 document of an application's events, from what the bus already knows: every event
 * (name, class, payload schema from `@Event({ schema })` or class-validator metadata), every handler
 * (`Class.method`) as a receive operation (with its consumer group), every pattern as a channel, declared
 * publishers as send operations, and the transport's servers and channel addresses (NATS subjects).
 * Call it once the application is initialised (`await app.init()`).
 */
export async function generateAsyncApi(app: Pick<INestApplicationContext, 'get'>, options: AsyncApiOptions): Promise<AsyncApiDocument> {
  checkOptions(options);
  const topology = collectTopology(app, [...(options.events ?? []), ...Object.keys(options.publishers ?? {})]);
  const classSchemas = await loadClassSchemas(SCHEMA_REF);
  return buildDocument(topology, options, classSchemas);
}

function buildDocument(topology: EventTopology, options: AsyncApiOptions, classSchemas: Record<string, Record<string, unknown>>): AsyncApiDocument {
  const transport = topology.transport;
  const serverIds: string[] = [];
  const servers: Record<string, unknown> = {};
  transport?.servers.forEach((url, i) => {
    const id = transport.servers.length === 1 ? transport.protocol : `${transport.protocol}-${i + 1}`;
    const parsed = parseServer(url);
    servers[id] = { host: parsed.host, protocol: parsed.protocol ?? transport.protocol, ...(parsed.pathname ? { pathname: parsed.pathname } : {}) };
    serverIds.push(id);
  });
  const serverRefs = serverIds.map((id) => ({ $ref: `#/servers/${id}` }));
  const address = (nameOrPattern: string) => (transport === undefined ? nameOrPattern : transport.address(nameOrPattern));

  const schemas: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const channels: Record<string, Record<string, unknown>> = {};
  const operations: Record<string, unknown> = {};
  const ids = new UniqueIds();
  const messageIdOf = new Map<string, string>();

  for (const [name, eventClass] of [...topology.events].sort(([a], [b]) => a.localeCompare(b))) {
    const messageId = ids.take('message', name);
    messageIdOf.set(name, messageId);
    const declared = eventClass === undefined ? undefined : eventOptionsOfClass(eventClass);
    let payload: Record<string, unknown> | undefined = declared?.schema ?? options.schemas?.[name];
    if (payload === undefined && eventClass !== undefined && classSchemas[eventClass.name] !== undefined) {
      // Referenced classes (nested @Type) come along under components.schemas.
      Object.assign(schemas, classSchemas);
      payload = { $ref: `${SCHEMA_REF}${eventClass.name}` };
    }
    messages[messageId] = {
      name,
      ...(eventClass === undefined ? {} : { title: eventClass.name }),
      summary: eventClass === undefined ? `The "${name}" event.` : `The "${name}" event (class ${eventClass.name}).`,
      ...(declared?.description === undefined ? {} : { description: declared.description }),
      contentType: 'application/json',
      payload: payload ?? { description: 'Not described: no @Event schema, class-validator metadata or `schemas` entry.' },
      'x-eb-event': name,
      ...(eventClass === undefined ? {} : { 'x-eb-class': eventClass.name }),
    };
    channels[messageId] = {
      address: address(name),
      title: name,
      messages: { [messageId]: { $ref: `#/components/messages/${messageId}` } },
      ...(serverRefs.length === 0 ? {} : { servers: serverRefs }),
    };
  }

  const channelOf = (s: TopologySubscription): string => {
    if (s.kind !== 'pattern') return messageIdOf.get(s.event)!;
    const existing = ids.existing('pattern', s.event);
    if (existing !== undefined) return existing;
    const channelId = ids.take('pattern', s.event);
    const matches = compilePattern(s.event);
    const matching = [...messageIdOf].filter(([name]) => matches(name));
    channels[channelId] = {
      address: address(s.event),
      title: s.event,
      description: `Every event matching the pattern "${s.event}".`,
      messages: Object.fromEntries(matching.map(([, id]) => [id, { $ref: `#/components/messages/${id}` }])),
      ...(serverRefs.length === 0 ? {} : { servers: serverRefs }),
    };
    return channelId;
  };

  const group = transport?.group;
  const byHandler = new Map<string, TopologySubscription[]>();
  for (const s of topology.subscriptions) byHandler.set(s.handler, [...(byHandler.get(s.handler) ?? []), s]);
  for (const [handler, subscriptions] of byHandler) {
    for (const s of subscriptions) {
      const channelId = channelOf(s);
      const operationId = ids.take('operation', subscriptions.length === 1 ? handler : `${handler}.${s.event}`);
      const channel = channels[channelId] as { messages: Record<string, unknown> };
      operations[operationId] = {
        action: 'receive',
        channel: { $ref: `#/channels/${channelId}` },
        messages: Object.keys(channel.messages).map((id) => ({ $ref: `#/channels/${channelId}/messages/${id}` })),
        title: handler,
        summary: `${handler} handles ${s.kind === 'pattern' ? `events matching "${s.event}"` : `"${s.event}"`}${group === undefined ? '' : ` in group ${group}`}.`,
        ...(group === undefined ? {} : { tags: [{ name: `group:${group}` }] }),
        ...(group !== undefined && transport?.protocol === 'nats' ? { bindings: { nats: { queue: group, bindingVersion: '0.1.0' } } } : {}),
        'x-eb-handler': handler,
        ...(group === undefined ? {} : { 'x-eb-group': group }),
        ...(s.options.retry === undefined ? {} : { 'x-eb-retry': s.options.retry }),
        ...(s.options.concurrency === undefined ? {} : { 'x-eb-concurrency': s.options.concurrency }),
      };
    }
  }

  for (const [name, publishers] of Object.entries(options.publishers ?? {})) {
    const channelId = messageIdOf.get(name)!;
    operations[ids.take('operation', `publish.${name}`)] = {
      action: 'send',
      channel: { $ref: `#/channels/${channelId}` },
      messages: [{ $ref: `#/channels/${channelId}/messages/${channelId}` }],
      title: `publish ${name}`,
      summary: `Published by ${publishers.join(', ')}.`,
      'x-eb-publishers': [...publishers],
    };
  }

  return {
    asyncapi: '3.0.0',
    info: { ...options.info },
    defaultContentType: 'application/json',
    ...(serverIds.length === 0 ? {} : { servers }),
    channels,
    operations,
    components: { messages, ...(Object.keys(schemas).length === 0 ? {} : { schemas }) },
    'x-eb-transport': topology.transportName ?? 'in-process',
  };
}

function checkOptions(options: AsyncApiOptions): void {
  const info = options?.info;
  if (info === undefined || typeof info.title !== 'string' || info.title === '' || typeof info.version !== 'string' || info.version === '') {
    throw new TypeError("generateAsyncApi(app, { info: { title: 'Orders service', version: '1.0.0' } }): `info.title` and `info.version` are required strings.");
  }
}

function parseServer(url: string): { host: string; protocol?: string; pathname?: string } {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)(\/.*)?$/i.exec(url);
  if (match === null) return { host: url };
  return { protocol: match[1], host: match[2], ...(match[3] && match[3] !== '/' ? { pathname: match[3] } : {}) };
}

/** AsyncAPI ids (map keys) from names: only letters, digits, '.', '-' and '_', each distinct per kind. */
class UniqueIds {
  private readonly byKey = new Map<string, string>();
  private readonly taken = new Set<string>();

  take(kind: string, name: string): string {
    const base = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/\*/g, '_') || '_';
    let id = kind === 'pattern' ? `pattern.${base}` : base;
    for (let n = 2; this.taken.has(`${kind === 'operation' ? 'op' : 'ch'}:${id}`); n++) id = `${base}-${n}`;
    this.taken.add(`${kind === 'operation' ? 'op' : 'ch'}:${id}`);
    this.byKey.set(`${kind}\u0000${name}`, id);
    return id;
  }

  existing(kind: string, name: string): string | undefined {
    return this.byKey.get(`${kind}\u0000${name}`);
  }
}
