export {
  isScalekitQueue,
  type ScalekitJobFailureInfo,
  type ScalekitJobProcessor,
  type ScalekitQueue,
  type ScalekitQueueCloseOptions,
  type ScalekitQueueJobMetadata,
  type ScalekitQueuedDelivery,
  type ScalekitQueueJob,
  type ScalekitQueueWorkerHooks,
  scalekitJobKey,
} from './scalekit-queue.js';
export { InMemoryScalekitQueue, type InMemoryScalekitQueueOptions } from './in-memory-scalekit-queue.js';
export {
  type BullMqBackoffOptions,
  type BullMqKeepJobs,
  type BullMqRedisClient,
  BullMqScalekitQueue,
  type BullMqScalekitQueueOptions,
  DEFAULT_BULLMQ_QUEUE_NAME,
} from './bullmq-scalekit-queue.js';
export type {
  ScalekitDeadLetter,
  ScalekitDeadLetterBulkOptions,
  ScalekitDeadLetterListOptions,
  ScalekitDeadLetterResult,
  ScalekitDeadLetterTarget,
} from './dead-letters.js';
