CREATE TABLE `payout_schedule_runs` (
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`currency` text NOT NULL,
	`date` text NOT NULL,
	`outcome` text NOT NULL,
	`payout_id` text,
	`reason` text,
	`created` integer NOT NULL,
	PRIMARY KEY(`merchant_id`, `livemode`, `currency`, `date`)
);
--> statement-breakpoint
CREATE INDEX `merchants_payout_interval_idx` ON `merchants` ("settings" ->> '$.payout_schedule.interval',`id`);