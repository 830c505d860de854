CREATE TABLE `payment_links` (
	`id` text PRIMARY KEY NOT NULL,
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`active` integer NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`payment_method_types` text NOT NULL,
	`description` text,
	`metadata` text NOT NULL,
	`success_url` text,
	`cancel_url` text,
	`expires_in` integer,
	`solana_token` text,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`merchant_id`) REFERENCES `merchants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `payment_links_merchant_idx` ON `payment_links` (`merchant_id`,`livemode`,`id`);
