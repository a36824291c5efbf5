export const WEBHOOK_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;
export type WebhookHeader = (typeof WEBHOOK_HEADERS)[number];

/** Most `v1,…` and other entries a valid delivery may carry (the library's documented limit). */
export const MAX_VALID_ENTRIES = 16;
