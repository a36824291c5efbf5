import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ScalekitInterceptorExplorer } from './scalekit-interceptor.explorer.js';
import { ConfigurableScalekitInterceptorModule } from './scalekit-interceptor.module-definition.js';

/**
 * Answers Scalekit interceptor calls: `ScalekitInterceptorModule.forRoot({ secret })` (or `forRootAsync`) registers a
 * verified endpoint that routes each call by its trigger point to one `@OnScalekitInterceptor()` method and sends
 * its checked decision, within `timeoutMs`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [ScalekitInterceptorExplorer],
})
export class ScalekitInterceptorModule extends ConfigurableScalekitInterceptorModule {}
