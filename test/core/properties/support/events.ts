import 'reflect-metadata';
import { Event } from '../../../../lib/index.js';

/** What every generated event carries: its publish sequence, its depth in a chain, and who filters it out. */
export interface GeneratedPayload {
  seq: number;
  depth: number;
  /** Labels of handlers whose filter says no to this event. */
  reject: readonly string[];
}

/** A class event (published under 'order.placed'). */
@Event('order.placed')
export class OrderPlaced implements GeneratedPayload {
  constructor(
    readonly seq: number,
    readonly depth: number,
    readonly reject: readonly string[],
  ) {}
}

/** A subclass: its instances reach OrderPlaced handlers too; published under its own class name. */
export class PriorityOrder extends OrderPlaced {}

export type GeneratedSelector = string | typeof OrderPlaced | typeof PriorityOrder;

/** Names the programs publish (some match no handler, some only `**`). */
export const EVENT_NAMES = ['order.placed', 'order.updated', 'order.shipped.eu', 'audit.log', 'other'] as const;
export const SELECTORS: readonly GeneratedSelector[] = [
  'order.placed',
  'order.updated',
  'order.*',
  'order.**',
  'audit.log',
  'PriorityOrder',
  OrderPlaced,
  PriorityOrder,
];

export function describeSelector(selector: GeneratedSelector): string {
  return typeof selector === 'function' ? selector.name : selector;
}

/**
 * The reference rule for who receives what (API.md §2), written independently of lib/: names match
 * exactly, '*' is one segment, '**' one or more, a class matches by instanceof.
 */
export function selectorMatches(selector: GeneratedSelector, name: string, payload: unknown): boolean {
  if (typeof selector === 'function') return payload instanceof selector;
  if (!selector.includes('*')) return selector === name;
  return segmentsMatch(selector.split('.'), name.split('.'));
}

function segmentsMatch(pattern: string[], name: string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [head, ...rest] = pattern;
  if (head === '**') {
    for (let take = 1; take <= name.length; take++) if (segmentsMatch(rest, name.slice(take))) return true;
    return false;
  }
  if (name.length === 0) return false;
  return (head === '*' || head === name[0]) && segmentsMatch(rest, name.slice(1));
}
