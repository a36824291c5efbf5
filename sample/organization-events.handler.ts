import { Injectable, Logger } from '@nestjs/common';
import { OnScalekitEvent, type ScalekitEventOf } from 'nestjs-scalekit-webhooks';

/** Every `organization.*` event, including directory and SSO changes. */
@Injectable()
export class OrganizationEventsHandler {
  private readonly logger = new Logger(OrganizationEventsHandler.name);
  readonly seen: string[] = [];

  @OnScalekitEvent('organization.*')
  onOrganizationEvent(event: ScalekitEventOf<'organization.*'>): void {
    this.seen.push(event.type);
    this.logger.log(`${event.type} for ${event.organization_id ?? 'no organization'}`);
  }
}
