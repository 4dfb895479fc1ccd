// The durable scheduler over the Job table.
export * from './scheduler';
export { backoffMs, type BackoffOptions } from './backoff';
