/**
 * `nestjs-scalekit-webhooks/core`: the framework-free part, for code outside Nest (Express, Fastify, a worker, a
 * script). Verify and sign deliveries, diagnose one that fails, parse and type events, keep deliveries exactly-once
 * with an idempotency store, queue them. Every name here is also exported by the package root.
 *
 * This list is deliberate: it is the public surface, documented in the README's API reference and checked against
 * the built package by `.ci/check-public-api.mjs`. Anything else under `core/` is internal and may change
 * (`core/index.ts` is the internal barrel the Nest adapters import from).
 */
export {
  type ConnectedAccountEventData,
  type ConnectedAccountStatusUpdatedEventData,
  type ConnectionEventData,
  type DirectoryEventData,
  type DirectoryGroupEventData,
  type DirectoryUserEventData,
  isKnownScalekitEventType,
  type OrganizationDomainEventData,
  type OrganizationEventData,
  type OrgMembershipEventData,
  type PermissionEventData,
  type RoleEventData,
  SCALEKIT_EVENT_CATALOGUE,
  SCALEKIT_EVENT_TYPES,
  type ScalekitEventCatalogueEntry,
  type ScalekitEventFieldInfo,
  type ScalekitEventMap,
  type ScalekitEventType,
  type UserAuthEventData,
} from './catalogue.js';
export {
  type DiagnoseScalekitDeliveryInput,
  diagnoseScalekitDelivery,
  type ScalekitDeliveryDiagnosis,
  type ScalekitFinding,
  type ScalekitFindingSeverity,
} from './diagnose.js';
export {
  type AnyScalekitEvent,
  parseScalekitEventPayload,
  type ScalekitEvent,
  type ScalekitEventEnvelope,
  type ScalekitEventOf,
  type UnknownScalekitEvent,
} from './envelope.js';
export {
  isScalekitWebhookError,
  SCALEKIT_WEBHOOK_ERRORS,
  ScalekitWebhookError,
  type ScalekitWebhookErrorCode,
  type ScalekitWebhookErrorOptions,
} from './errors.js';
export type { ScalekitHeadersInput } from './headers.js';
export {
  type ClaimResult,
  type ClaimStatus,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
  type RedisIdempotencyClient,
  RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
} from './idempotency/index.js';
export {
  DEFAULT_TOLERANCE_SECONDS,
  DEFAULT_WEBHOOK_PATH,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './protocol.js';
export {
  type BullMqBackoffOptions,
  type BullMqKeepJobs,
  type BullMqRedisClient,
  BullMqScalekitQueue,
  type BullMqScalekitQueueOptions,
  DEFAULT_BULLMQ_QUEUE_NAME,
  InMemoryScalekitQueue,
  type InMemoryScalekitQueueOptions,
  type ScalekitJobFailureInfo,
  type ScalekitJobProcessor,
  type ScalekitQueue,
  type ScalekitQueueCloseOptions,
  type ScalekitQueueJobMetadata,
  type ScalekitQueuedDelivery,
  type ScalekitQueueJob,
  type ScalekitQueueWorkerHooks,
  type ScalekitDeadLetter,
  type ScalekitDeadLetterBulkOptions,
  type ScalekitDeadLetterListOptions,
  type ScalekitDeadLetterResult,
  type ScalekitDeadLetterTarget,
} from './queue/index.js';
export {
  checkScalekitHealth,
  type ScalekitHealthCheckOptions,
  type ScalekitHealthDetails,
  type ScalekitHealthResources,
  type ScalekitHealthStatus,
} from './health/scalekit-health.js';
export { redactScalekitPayload } from './redact.js';
export type { ScalekitEventPattern } from './registry.js';
export {
  type ScalekitWebhookResponse,
  type SendSignedScalekitWebhookOptions,
  sendSignedScalekitWebhook,
} from './send.js';
export { type SignedScalekitWebhook, type SignScalekitWebhookInput, signScalekitWebhook } from './sign.js';
export {
  type ScalekitVerifierOptions,
  ScalekitWebhookVerifier,
  type ScalekitVerifiedHeaders,
  type VerifiedScalekitDelivery,
  verifyScalekitWebhook,
  type VerifyScalekitWebhookInput,
} from './verify.js';
export {
  type AnyScalekitInterceptorRequest,
  type AnyScalekitInterceptorResponse,
  checkScalekitInterceptorAnswer,
  DEFAULT_INTERCEPTOR_PATH,
  DEFAULT_INTERCEPTOR_TIMEOUT_MS,
  isKnownScalekitInterceptorTrigger,
  isScalekitInterceptorRequest,
  parseScalekitInterceptorRequest,
  SCALEKIT_INTERCEPTOR_TRIGGERS,
  SCALEKIT_PROTECTED_M2M_CLAIMS,
  type ScalekitInterceptorAllow,
  type ScalekitInterceptorAnswer,
  type ScalekitInterceptorAnswerCheck,
  type ScalekitInterceptorAuthRequest,
  type ScalekitInterceptorCallResponse,
  type ScalekitInterceptorClaims,
  type ScalekitInterceptorConnectionDetail,
  type ScalekitInterceptorContext,
  type ScalekitInterceptorContextData,
  type ScalekitInterceptorDataMap,
  ScalekitInterceptorDecision,
  type ScalekitInterceptorDecisionValue,
  type ScalekitInterceptorDeny,
  type ScalekitInterceptorError,
  type ScalekitInterceptorFailurePolicy,
  type ScalekitInterceptorHandler,
  type ScalekitInterceptorHandlerLookup,
  ScalekitInterceptorHandlerRegistry,
  type ScalekitInterceptorLogger,
  type ScalekitInterceptorOptions,
  type ScalekitInterceptorReceiveInput,
  ScalekitInterceptorReceiver,
  type ScalekitInterceptorReceiverOptions,
  type ScalekitInterceptorRequest,
  type ScalekitInterceptorRequestBody,
  type ScalekitInterceptorRequestEnvelope,
  type ScalekitInterceptorRequestParse,
  type ScalekitInterceptorResponse,
  type ScalekitInterceptorResponseDataMap,
  type ScalekitInterceptorTrigger,
  type ScalekitInterceptorUserMembership,
  type ScalekitInterceptorVerificationFailurePolicy,
  type ScalekitKnownInterceptorTrigger,
  type ScalekitM2MTokenClaims,
  type ScalekitOrganizationMembershipRequest,
  type ScalekitPreM2MTokenCreationData,
  type ScalekitPreSessionCreationData,
  type ScalekitPreSessionCreationUser,
  type ScalekitPreSignupData,
  type ScalekitPreSignupUser,
  type ScalekitPreUserInvitationData,
  type SendScalekitInterceptorOptions,
  sendSignedScalekitInterceptor,
  type SignedScalekitInterceptor,
  type SignScalekitInterceptorInput,
  signScalekitInterceptor,
  type UnknownScalekitInterceptorRequest,
} from './interceptors/index.js';
export type { ScalekitReceiverOutcome } from './receiver/outcome.js';
