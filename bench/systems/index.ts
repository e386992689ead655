import { eventEmitter2 } from './eventemitter2.js';
import { mapFloor } from './map-floor.js';
import { nestCqrs } from './nest-cqrs.js';
import { nestEventEmitter } from './nest-event-emitter.js';
import { nodeEvents } from './node-events.js';
import { thisLibrary, thisLibraryTelemetryOff } from './this-library.js';
import type { System } from './types.js';

/** Column order of the table: this library first, the floor last. */
export const SYSTEMS: readonly System[] = [thisLibrary, thisLibraryTelemetryOff, nestEventEmitter, nestCqrs, eventEmitter2, nodeEvents, mapFloor];
