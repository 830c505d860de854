export * from "./api-keys";
export * from "./events";
export * from "./idempotency-keys";
export * from "./ledger";
export * from "./merchants";
export * from "./payment-links";
export * from "./payments";
export * from "./solana-signatures";
