import type { EventEnvelope, EventTransport } from '../../../lib/index.js';

export const WRONG_KEY = 'a-key-nobody-configured-000';

/** Publishes one event straight through a transport (no bus): how an unsigned or wrongly signed producer would. */
export async function sendDirect(transport: EventTransport, label: string): Promise<void> {
  const id = `raw-${label}-${Date.now()}`;
  const envelope = { id, name: 'conformance.job', payload: { raw: label }, occurredAt: new Date(), correlationId: id, attempt: 1, headers: {} } as unknown as EventEnvelope;
  try {
    await transport.send(envelope, transport.prepare(envelope));
  } finally {
    await transport.close();
  }
}
