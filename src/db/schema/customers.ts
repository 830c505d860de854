import {
	index,
	integer,
	primaryKey,
	sqliteTable,
	text,
	uniqueIndex,
} from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";

/**
 * A merchant's customer in one mode. `email` is an envelope (src/lib/encryption.ts) bound to the
 * customer's id; `email_hash` is a keyed lookup hash (`hk1.<kid>.<hmac>`) of the lowercased
 * address for the list filter. Rows from before encryption hold the plaintext and an unkeyed
 * SHA-256 until `npm run keys:rotate` seals them; both read correctly meanwhile.
 */
export const customers = sqliteTable(
	"customers",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		email: text("email"),
		emailHash: text("email_hash"),
		name: text("name"),
		preferredToken: text("preferred_token"),
		metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
		...created,
		updated: integer("updated").notNull(),
	},
	(t) => [
		index("customers_merchant_idx").on(t.merchantId, t.livemode, t.id),
		index("customers_email_idx").on(t.merchantId, t.livemode, t.emailHash, t.id),
	],
);

/**
 * Wallets of a customer. One wallet belongs to at most one customer per merchant and mode, so
 * signing in with it finds exactly one customer. `verified_at` is set once the payer proved
 * control of the wallet by signing in with it.
 */
export const customerWallets = sqliteTable(
	"customer_wallets",
	{
		customerId: text("customer_id").notNull(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		address: text("address").notNull(),
		verifiedAt: integer("verified_at"),
		addedAt: integer("added_at").notNull(),
	},
	(t) => [
		primaryKey({ columns: [t.customerId, t.address] }),
		uniqueIndex("customer_wallets_address_idx").on(t.merchantId, t.livemode, t.address),
	],
);

/** Sign In With Solana nonces: issued for one address at one merchant and mode, used once. */
export const signInNonces = sqliteTable(
	"sign_in_nonces",
	{
		nonce: text("nonce").primaryKey(),
		paymentId: text("payment_id").notNull(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		address: text("address").notNull(),
		issuedAt: integer("issued_at").notNull(),
		expiresAt: integer("expires_at").notNull(),
	},
	(t) => [
		index("sign_in_nonces_payment_idx").on(t.paymentId, t.expiresAt),
		index("sign_in_nonces_expires_idx").on(t.expiresAt),
	],
);

/** Payer sessions ended before their expiry (sign-out), kept until the token would expire. */
export const revokedSessions = sqliteTable(
	"revoked_sessions",
	{
		jti: text("jti").primaryKey(),
		expiresAt: integer("expires_at").notNull(),
	},
	(t) => [index("revoked_sessions_expires_idx").on(t.expiresAt)],
);
