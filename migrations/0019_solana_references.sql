CREATE TABLE `solana_references` (
	`reference` text PRIMARY KEY NOT NULL,
	`payment_id` text NOT NULL,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `unattributed_funds` (
	`id` text PRIMARY KEY NOT NULL,
	`signature` text NOT NULL,
	`currency` text NOT NULL,
	`account` text NOT NULL,
	`amount` text NOT NULL,
	`sender` text NOT NULL,
	`slot` integer NOT NULL,
	`reason` text NOT NULL,
	`payment_id` text,
	`status` text NOT NULL,
	`refund_signature` text,
	`livemode` integer NOT NULL,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `unattributed_funds_status_idx` ON `unattributed_funds` (`status`,`created`);