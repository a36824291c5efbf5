import type { ScalekitInterceptorOptions } from '../core/interceptors/index.js';

/** What `ScalekitInterceptorModule.forRoot()` takes besides the route (and what a `forRootAsync` factory returns). */
export type ScalekitInterceptorModuleOptions = ScalekitInterceptorOptions;

/** The route of a registration: read before any factory runs, so passed to `forRoot`/`forRootAsync` themselves. */
export interface ScalekitInterceptorModuleExtras {
  /**
   * The route Scalekit posts to (the interceptor's URL in the dashboard ends with it).
   * @default 'scalekit/interceptors' (`DEFAULT_INTERCEPTOR_PATH`)
   */
  path?: string;
  /**
   * Registers the module globally.
   * @default false
   */
  isGlobal?: boolean;
}

/** Logger context of every line the interceptor module writes. */
export const SCALEKIT_INTERCEPTOR_LOGGER_CONTEXT = 'ScalekitInterceptor';

/** The route of one registration, as a provider: registrations find each other's routes through it. */
export class ScalekitInterceptorRoute {
  constructor(
    /** Without surrounding slashes. */
    readonly path: string,
  ) {}
}
