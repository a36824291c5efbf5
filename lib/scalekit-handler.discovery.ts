import type { InjectionToken } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

/** One method carrying a decorator's metadata, found at start-up. */
export interface DecoratedMethod<M> {
  /** `ClassName.methodName`, for logs. */
  readonly name: string;
  readonly methodName: string;
  readonly metadata: M;
  /** The instance to call, for a static provider; `undefined` for a request-scoped or transient one. */
  readonly instance: Record<string, (...args: unknown[]) => unknown> | undefined;
  /** The provider's token, to resolve a request-scoped or transient instance per call. */
  readonly token: InjectionToken;
  readonly isStatic: boolean;
}

/**
 * Every provider and controller method with `metadataKey`, for each provider kind (class, useClass, useFactory,
 * useValue): a static one is found through its instance, whose prototype is its real class; a request-scoped or
 * transient one has no instance yet, so only a class can tell its methods. An instance reachable under several tokens
 * (an alias, the same object given twice) is reported once. The one discovery walk of webhook and interceptor
 * handlers.
 */
export function* findDecoratedMethods<M>(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
  metadataKey: string | symbol,
): Generator<DecoratedMethod<M>> {
  const seen = new Set<object>();
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    if (wrapper.isAlias) {
      continue;
    }
    const isStatic = wrapper.isDependencyTreeStatic();
    const instance = isStatic ? (wrapper.instance as unknown) : undefined;
    if (isStatic && (instance === null || typeof instance !== 'object' || seen.has(instance))) {
      continue;
    }
    if (!isStatic && (!wrapper.metatype || typeof wrapper.metatype !== 'function' || wrapper.inject)) {
      continue;
    }
    if (instance) {
      seen.add(instance);
    }
    const prototype = (instance ? Object.getPrototypeOf(instance) : wrapper.metatype!.prototype) as
      Record<string, unknown> | null | undefined;
    if (!prototype) {
      continue;
    }
    const className = instance ? classNameOf(instance, wrapper.name) : wrapper.metatype!.name;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      const metadata = typeof method === 'function' ? reflector.get<M | undefined>(metadataKey, method) : undefined;
      if (metadata === undefined) {
        continue;
      }
      yield {
        name: `${className}.${methodName}`,
        methodName,
        metadata,
        instance: instance as DecoratedMethod<M>['instance'],
        token: wrapper.token,
        isStatic,
      };
    }
  }
}

/** The class an instance was made from, for log lines; the provider's name when it has none (a plain object). */
function classNameOf(instance: object, fallback: unknown): string {
  const constructor = (instance as { constructor?: unknown }).constructor;
  if (typeof constructor === 'function' && constructor !== Object && constructor.name) {
    return constructor.name;
  }
  return String(fallback);
}
