// The whole property suite in one child process (one start-up instead of four): what
// test/core/properties/properties.spec.ts runs. PROPERTY_ONLY=delivery,flood runs a subset.
import '../support/process-errors.js';
import { runAndReport } from '../support/run-property.js';
import { property as backpressure } from './backpressure.js';
import { property as delivery } from './delivery.js';
import { property as flood } from './flood.js';
import { property as shutdown } from './shutdown.js';

const only = process.env.PROPERTY_ONLY?.split(',');
await runAndReport([delivery, shutdown, backpressure, flood].filter((p) => only === undefined || only.includes(p.name)));
