CREATE TABLE `rates` (
	`pair` text NOT NULL,
	`source` text NOT NULL,
	`base` text NOT NULL,
	`quote` text NOT NULL,
	`rate_numerator` text NOT NULL,
	`rate_denominator` text NOT NULL,
	`publish_time` integer NOT NULL,
	`fetched_at` integer NOT NULL,
	PRIMARY KEY(`pair`, `source`)
);
--> statement-breakpoint
CREATE TABLE `conversions` (
	`id` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`payment_id` text NOT NULL,
	`status` text NOT NULL,
	`policy` text NOT NULL,
	`from_currency` text NOT NULL,
	`from_token` text NOT NULL,
	`from_amount` text NOT NULL,
	`to_currency` text NOT NULL,
	`to_token` text,
	`to_amount` text,
	`rate_numerator` text,
	`rate_denominator` text,
	`rate` text,
	`rate_source` text,
	`rate_publish_time` integer,
	`spread_bps` integer NOT NULL,
	`fee` text,
	`rounding` text,
	`failure_code` text,
	`failure_message` text,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `conversions_payment_idx` ON `conversions` (`payment_id`);--> statement-breakpoint
CREATE INDEX `conversions_merchant_idx` ON `conversions` (`merchant_id`,`livemode`,`id`);
