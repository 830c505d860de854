-- Daily rollups for the analytics API, rebuilt one (merchant, mode, day) at a time by the minute
-- cron. Each primary key leads with (merchant_id, livemode, day): the rebuild's delete and the
-- summary's window read are range scans of it.
CREATE TABLE `rollup_payments_daily` (
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`day` text NOT NULL,
	`method` text NOT NULL,
	`currency` text NOT NULL,
	`token` text NOT NULL,
	`status` text NOT NULL,
	`payments` integer NOT NULL,
	`amount` integer NOT NULL,
	`amount_received` integer NOT NULL,
	`fees` integer NOT NULL,
	`net` integer NOT NULL,
	`refunded_payments` integer NOT NULL,
	`confirm_hist` text NOT NULL,
	PRIMARY KEY(`merchant_id`, `livemode`, `day`, `method`, `currency`, `token`, `status`)
);
--> statement-breakpoint
CREATE TABLE `rollup_refunds_daily` (
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`day` text NOT NULL,
	`method` text NOT NULL,
	`currency` text NOT NULL,
	`token` text NOT NULL,
	`status` text NOT NULL,
	`refunds` integer NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`merchant_id`, `livemode`, `day`, `method`, `currency`, `token`, `status`)
);
--> statement-breakpoint
CREATE TABLE `rollup_conversions_daily` (
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`day` text NOT NULL,
	`method` text NOT NULL,
	`currency` text NOT NULL,
	`token` text NOT NULL,
	`status` text NOT NULL,
	`conversions` integer NOT NULL,
	`from_amount` integer NOT NULL,
	`spread` integer NOT NULL,
	`settled` integer NOT NULL,
	PRIMARY KEY(`merchant_id`, `livemode`, `day`, `method`, `currency`, `token`, `status`)
);
--> statement-breakpoint
CREATE TABLE `rollup_customers_daily` (
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`day` text NOT NULL,
	`customer_id` text NOT NULL,
	`method` text NOT NULL,
	`currency` text NOT NULL,
	`token` text NOT NULL,
	PRIMARY KEY(`merchant_id`, `livemode`, `day`, `customer_id`, `method`, `currency`, `token`)
);
--> statement-breakpoint
CREATE TABLE `rollup_customer_firsts` (
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`customer_id` text NOT NULL,
	`first_day` text NOT NULL,
	PRIMARY KEY(`merchant_id`, `livemode`, `customer_id`)
);
--> statement-breakpoint
CREATE TABLE `rollup_watermarks` (
	`name` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`updated` integer NOT NULL
);
