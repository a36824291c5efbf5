import { Injectable, Logger } from '@nestjs/common';
import { type AnyScalekitEvent, OnScalekitEvent, type ScalekitDelivery } from 'nestjs-scalekit-webhooks';

export interface AuditEntry {
  eventId: string;
  type: string;
  occurredAt: string;
  webhookId: string;
}

/** Records every event, known or not: `*` also receives event types Scalekit adds later. */
@Injectable()
export class AuditLogHandler {
  private readonly logger = new Logger(AuditLogHandler.name);
  readonly entries: AuditEntry[] = [];

  @OnScalekitEvent('*')
  record(event: AnyScalekitEvent, delivery: ScalekitDelivery): void {
    this.entries.push({
      eventId: event.id,
      type: event.type,
      occurredAt: event.occurred_at,
      webhookId: delivery.webhookId,
    });
    this.logger.log(`audit: ${event.id} ${event.type}`);
  }
}
