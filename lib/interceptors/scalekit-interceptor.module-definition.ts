import { ConfigurableModuleBuilder, type DynamicModule, Logger } from '@nestjs/common';
import {
  DEFAULT_INTERCEPTOR_PATH,
  ScalekitInterceptorHandlerRegistry,
  ScalekitInterceptorReceiver,
} from '../core/interceptors/index.js';
import { ScalekitWebhookError } from '../core/errors.js';
import { loadScalekitTelemetry, type ScalekitTelemetry } from '../core/telemetry/scalekit-telemetry.js';
import { createScalekitInterceptorController } from './scalekit-interceptor.controller.js';
import {
  SCALEKIT_INTERCEPTOR_LOGGER_CONTEXT,
  ScalekitInterceptorRoute,
  type ScalekitInterceptorModuleExtras,
  type ScalekitInterceptorModuleOptions,
} from '../interfaces/scalekit-interceptor.interfaces.js';

/** Injection token of the options as given to `forRoot` / returned by the `forRootAsync` factory. */
export const SCALEKIT_INTERCEPTOR_MODULE_OPTIONS = 'SCALEKIT_INTERCEPTOR_MODULE_OPTIONS';

/** The extras shape the route and the module, so they are read before any factory runs. */
const ROUTE_OPTIONS = ['path', 'isGlobal'] as const;

export const {
  ConfigurableModuleClass: ConfigurableScalekitInterceptorModule,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ScalekitInterceptorModuleOptions>({
  moduleName: 'ScalekitInterceptor',
  optionsInjectionToken: SCALEKIT_INTERCEPTOR_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createScalekitInterceptorOptions')
  .setExtras<ScalekitInterceptorModuleExtras>(
    { path: DEFAULT_INTERCEPTOR_PATH, isGlobal: false },
    (definition, extras): DynamicModule => ({
      ...definition,
      global: extras.isGlobal,
      controllers: [createScalekitInterceptorController(extras.path ?? DEFAULT_INTERCEPTOR_PATH)],
      providers: [
        ...(definition.providers ?? []),
        {
          provide: ScalekitInterceptorRoute,
          useValue: new ScalekitInterceptorRoute((extras.path ?? DEFAULT_INTERCEPTOR_PATH).replace(/^\/+|\/+$/g, '')),
        },
        // One registry per registration: the explorer fills it, the receiver reads it.
        { provide: ScalekitInterceptorHandlerRegistry, useFactory: () => new ScalekitInterceptorHandlerRegistry() },
        {
          provide: ScalekitInterceptorReceiver,
          // Telemetry is loaded here, at start-up: a no-op when @opentelemetry/api is absent or no SDK is registered
          // by then (checked once, so the no-op path costs nothing per call).
          useFactory: async (options: ScalekitInterceptorModuleOptions, handlers: ScalekitInterceptorHandlerRegistry) =>
            createReceiver(options, handlers, await loadScalekitTelemetry()),
          inject: [SCALEKIT_INTERCEPTOR_MODULE_OPTIONS, ScalekitInterceptorHandlerRegistry],
        },
      ],
    }),
  )
  .build();

function createReceiver(
  options: ScalekitInterceptorModuleOptions,
  handlers: ScalekitInterceptorHandlerRegistry,
  telemetry: ScalekitTelemetry,
): ScalekitInterceptorReceiver {
  if (options !== null && typeof options === 'object') {
    // forRoot strips these before the options get here; only a forRootAsync factory can return them, and Nest has
    // already built the route by then, so they would be silently ignored.
    const returned = ROUTE_OPTIONS.filter((key) => Object.prototype.hasOwnProperty.call(options, key));
    if (returned.length > 0) {
      throw new ScalekitWebhookError(
        'invalid_options',
        `Scalekit interceptor route option${returned.length > 1 ? 's' : ''} ${returned.map((key) => `\`${key}\``).join(', ')} returned by the forRootAsync factory would be ignored: routes are built before the factory runs. Pass ${returned.length > 1 ? 'them' : 'it'} to forRootAsync itself, next to useFactory: ScalekitInterceptorModule.forRootAsync({ useFactory, inject, ${returned[0]}: … })`,
      );
    }
  }
  return new ScalekitInterceptorReceiver({
    ...options,
    handlers,
    telemetry,
    logger: new Logger(SCALEKIT_INTERCEPTOR_LOGGER_CONTEXT),
  });
}

/** What `ScalekitInterceptorModule.forRoot()` takes: the options plus `path` and `isGlobal`. */
export type ScalekitInterceptorForRootOptions = typeof OPTIONS_TYPE;
/** What `ScalekitInterceptorModule.forRootAsync()` takes: `useFactory`/`useClass`/`useExisting` plus the extras. */
export type ScalekitInterceptorForRootAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
