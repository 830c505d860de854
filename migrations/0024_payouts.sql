CREATE TABLE `payout_destination_challenges` (
	`nonce` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`address` text NOT NULL,
	`message` text NOT NULL,
	`expires` integer NOT NULL,
	`used` integer,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payout_destinations` (
	`id` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`type` text NOT NULL,
	`address` text,
	`stripe_account_id` text,
	`status` text NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`usable_after` integer NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	`removed` integer
);
--> statement-breakpoint
CREATE INDEX `payout_destinations_merchant_idx` ON `payout_destinations` (`merchant_id`,`livemode`,`id`);--> statement-breakpoint
CREATE INDEX `payout_destinations_account_idx` ON `payout_destinations` (`stripe_account_id`);--> statement-breakpoint
CREATE TABLE `payout_items` (
	`payout_id` text NOT NULL,
	`transfer_id` text NOT NULL,
	`account` text NOT NULL,
	`amount` text NOT NULL,
	`currency` text NOT NULL,
	PRIMARY KEY(`payout_id`, `transfer_id`, `account`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_items_transfer_idx` ON `payout_items` (`transfer_id`,`account`);--> statement-breakpoint
CREATE TABLE `payouts` (
	`id` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`amount` text NOT NULL,
	`currency` text NOT NULL,
	`destination_id` text NOT NULL,
	`method` text NOT NULL,
	`status` text NOT NULL,
	`automatic` integer NOT NULL,
	`fee` text,
	`fee_currency` text,
	`failure_code` text,
	`failure_message` text,
	`solana_signature` text,
	`stripe_transfer_id` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payouts_merchant_idx` ON `payouts` (`merchant_id`,`livemode`,`id`);--> statement-breakpoint
CREATE INDEX `payouts_status_idx` ON `payouts` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `payouts_destination_idx` ON `payouts` (`destination_id`,`id`);