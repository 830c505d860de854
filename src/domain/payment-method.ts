/** How a payer can pay: crypto through Solana Pay, or a card through Stripe. */
export const PAYMENT_METHOD_TYPES = ["solana", "card"] as const;
export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];
