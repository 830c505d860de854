CREATE TABLE `reports` (
	`id` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`type` text NOT NULL,
	`period_from` text NOT NULL,
	`period_to` text NOT NULL,
	`origin` text NOT NULL,
	`status` text NOT NULL,
	`formats` text NOT NULL,
	`rows` integer,
	`size_bytes` integer,
	`csv_key` text,
	`csv_size` integer,
	`json_key` text,
	`json_size` integer,
	`balances` text,
	`created` integer NOT NULL,
	`ready_at` integer,
	`failure_reason` text
);
--> statement-breakpoint
CREATE INDEX `reports_merchant_idx` ON `reports` (`merchant_id`,`livemode`,`id`);--> statement-breakpoint
-- The daily cron makes at most one report per merchant, mode, type and period, however often it runs.
CREATE UNIQUE INDEX `reports_daily_idx` ON `reports` (`merchant_id`,`livemode`,`type`,`period_from`,`period_to`) WHERE "reports"."origin" = 'daily';--> statement-breakpoint
-- A settlement report opens from the closing balances of the report that ended the day before.
CREATE INDEX `reports_settlement_to_idx` ON `reports` (`merchant_id`,`livemode`,`type`,`period_to`,`status`);--> statement-breakpoint
-- Settlement reports sum one merchant account's postings over a period: an index range per account.
CREATE INDEX `ledger_postings_account_created_idx` ON `ledger_postings` (`account`,`created`);
