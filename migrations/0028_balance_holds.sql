CREATE TABLE `balance_holds` (
	`id` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`account` text NOT NULL,
	`currency` text NOT NULL,
	`amount` text NOT NULL,
	`transfer_id` text NOT NULL,
	`created` integer NOT NULL,
	`released` integer
);
--> statement-breakpoint
CREATE INDEX `balance_holds_account_idx` ON `balance_holds` (`account`);