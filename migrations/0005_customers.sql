CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`email` text,
	`email_hash` text,
	`name` text,
	`preferred_token` text,
	`metadata` text NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `customers_merchant_idx` ON `customers` (`merchant_id`,`livemode`,`id`);--> statement-breakpoint
CREATE INDEX `customers_email_idx` ON `customers` (`merchant_id`,`livemode`,`email_hash`,`id`);--> statement-breakpoint
CREATE TABLE `customer_wallets` (
	`customer_id` text NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`address` text NOT NULL,
	`verified_at` integer,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`customer_id`, `address`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `customer_wallets_address_idx` ON `customer_wallets` (`merchant_id`,`livemode`,`address`);--> statement-breakpoint
CREATE TABLE `sign_in_nonces` (
	`nonce` text PRIMARY KEY NOT NULL,
	`payment_id` text NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`address` text NOT NULL,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sign_in_nonces_payment_idx` ON `sign_in_nonces` (`payment_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `sign_in_nonces_expires_idx` ON `sign_in_nonces` (`expires_at`);--> statement-breakpoint
CREATE TABLE `revoked_sessions` (
	`jti` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `revoked_sessions_expires_idx` ON `revoked_sessions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `payments` ADD `customer_id` text;--> statement-breakpoint
CREATE INDEX `payments_merchant_customer_idx` ON `payments` (`merchant_id`,`livemode`,`customer_id`,`id`);
