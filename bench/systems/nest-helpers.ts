import { Injectable, Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { ListenerKind, ListenerSpec } from './types.js';

/** A fresh class (own name, own `handle` function object) so decorators see distinct methods. */
export function listenerClass(
  name: string,
  kind: ListenerKind,
  body: (payload: any) => void,
  unwrap: (arg: any) => any = (arg) => arg,
): Type<{ handle(arg: unknown): unknown }> {
  const C =
    kind === 'sync'
      ? class {
          handle(arg: unknown): void {
            body(unwrap(arg));
          }
        }
      : class {
          async handle(arg: unknown): Promise<void> {
            await undefined;
            body(unwrap(arg));
          }
        };
  Object.defineProperty(C, 'name', { value: name });
  Injectable()(C);
  return C;
}

/** A provider class without any handler (the baseline of the bootstrap scenario). */
export function plainClass(name: string): Type<object> {
  const C = class {
    handle(arg: unknown): unknown {
      return arg;
    }
  };
  Object.defineProperty(C, 'name', { value: name });
  Injectable()(C);
  return C;
}

/**
 * One listener class per (name, copy) of a spec, plus one for its pattern, each made a handler of its
 * event by `handlerOf(event)` (a method decorator such as `@OnEvent(event)`).
 */
export function listenerProviders(spec: ListenerSpec, handlerOf: (event: string) => MethodDecorator): Type[] {
  const providers: Type[] = [];
  let n = 0;
  for (const name of spec.names) {
    for (let k = 0; k < spec.perName; k++) {
      const C = listenerClass(`Listener${n++}`, spec.kind, spec.onEvent);
      decorateMethod(C, 'handle', handlerOf(name));
      providers.push(C);
    }
  }
  if (spec.pattern !== undefined) {
    const C = listenerClass('PatternListener', spec.kind, spec.onEvent);
    decorateMethod(C, 'handle', handlerOf(spec.pattern));
    providers.push(C);
  }
  return providers;
}

/**
 * The providers of the bootstrap scenario: `count` listener classes, each registered as a handler by
 * `register(listenerClass, i)` (a decorator applied by hand), or `count` plain classes as the baseline.
 */
export function bootstrapProviders(count: number, withHandlers: boolean, register: (listener: Type<object>, i: number) => void): Type[] {
  const providers: Type[] = [];
  for (let i = 0; i < count; i++) {
    if (withHandlers) {
      const C = listenerClass(`BootListener${i}`, 'sync', () => undefined);
      register(C, i);
      providers.push(C);
    } else {
      providers.push(plainClass(`BootPlain${i}`));
    }
  }
  return providers;
}

/** Applies a method decorator by hand, as TypeScript's `@Decorator` would. */
export function decorateMethod(target: Function, key: string, decorator: MethodDecorator): void {
  const prototype = target.prototype as object;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, key)!;
  const result = decorator(prototype, key, descriptor) ?? descriptor;
  Object.defineProperty(prototype, key, result);
}

let moduleSequence = 0;

/** Boots a Nest application context (Nest's logger silenced) from a root module built on the fly. */
export async function bootNest(imports: (DynamicModule | Type)[], providers: Type[]): Promise<INestApplicationContext> {
  const Root = class {};
  Object.defineProperty(Root, 'name', { value: `BenchRoot${moduleSequence++}` });
  Module({ imports, providers })(Root);
  return NestFactory.createApplicationContext(Root, { logger: false, abortOnError: false });
}
