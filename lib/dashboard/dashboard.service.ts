import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { generateAsyncApi, type AsyncApiDocument } from '../asyncapi/generate-async-api.js';
import { collectTopology } from '../asyncapi/event-topology.js';
import { DeadLetters } from '../dead-letters/dead-letters.js';
import type { DeadLetterRecord, RedriveResult } from '../dead-letters/dead-letter.interface.js';
import { EventBus } from '../event-bus.js';
import { DASHBOARD_OPTIONS, type ResolvedDashboardOptions } from './dashboard-options.js';
import type { DashboardState } from './dashboard-state.js';
import { EventRates } from './event-rates.js';

const SHOWN_DEAD_LETTERS = 50;

/** Gathers what the events page shows, and runs its actions. */
@Injectable()
export class DashboardService {
  /** Every action must carry it (a form field or a header): a page of another site cannot post to ours. */
  readonly token = randomBytes(18).toString('base64url');

  constructor(
    @Inject(DASHBOARD_OPTIONS) readonly options: ResolvedDashboardOptions,
    private readonly moduleRef: ModuleRef,
    private readonly bus: EventBus,
    private readonly deadLetters: DeadLetters,
    private readonly rates: EventRates,
  ) {
    rates.configure(options.rateMinutes);
  }

  async state(): Promise<DashboardState> {
    const topology = collectTopology(this.moduleRef);
    const byEvent = new Map<string, DashboardState['topology'][number]>();
    for (const s of topology.subscriptions) {
      let entry = byEvent.get(`${s.kind}:${s.event}`);
      if (entry === undefined) {
        entry = { event: s.event, kind: s.kind, ...(s.eventClass === undefined ? {} : { eventClass: s.eventClass.name }), handlers: [] };
        byEvent.set(`${s.kind}:${s.event}`, entry);
      }
      if (!entry.handlers.includes(s.handler)) entry.handlers.push(s.handler);
    }
    return {
      transport: topology.transportName ?? 'in-process',
      ...(topology.transport?.group === undefined ? {} : { group: topology.transport.group }),
      topology: [...byEvent.values()].sort((a, b) => a.event.localeCompare(b.event)),
      rates: this.rates.snapshot(),
      rateMinutes: this.options.rateMinutes,
      load: this.bus.load(),
      deadLetterSource: this.deadLetters.source,
      deadLetters: await this.deadLetters.list({ limit: SHOWN_DEAD_LETTERS }),
    };
  }

  asyncApi(): Promise<AsyncApiDocument> {
    return generateAsyncApi(this.moduleRef, this.options.asyncApi);
  }

  deadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.deadLetters.get(id);
  }

  async redrive(id: string): Promise<RedriveResult & { message: string }> {
    const result = await this.deadLetters.redrive(id);
    const messages: Record<RedriveResult['outcome'], string> = {
      delivered: `Dead letter ${id} redriven: delivered.`,
      'failed-again': `Dead letter ${id} redriven, and it failed again: see dead letter ${result.newDeadLetterId ?? '(new)'}.`,
      'already-redriven': `Dead letter ${id} was already redriven: not delivered again.`,
      'not-found': `Dead letter ${id} does not exist (any more).`,
      'not-redrivable': `Dead letter ${id} cannot be redriven: ${result.detail ?? 'no reason given'}.`,
    };
    return { ...result, message: messages[result.outcome] };
  }

  async purge(): Promise<{ purged: number; message: string }> {
    const purged = await this.deadLetters.purge();
    return { purged, message: `Purged ${purged} dead letters.` };
  }
}
