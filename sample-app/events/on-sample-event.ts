import { createOnEvent } from '../../lib/index.js';
import type { SampleEvents } from './sample-events.js';

/** `@OnEvent` checked against SampleEvents: the handler's first parameter must accept the event's payload. */
export const OnSampleEvent = createOnEvent<SampleEvents>();
