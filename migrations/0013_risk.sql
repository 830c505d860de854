CREATE TABLE `risk_rules` (
	`merchant_id` text NOT NULL,
	`livemode` integer NOT NULL,
	`review_at` integer NOT NULL,
	`block_at` integer NOT NULL,
	`rules` text NOT NULL,
	`version` integer NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	PRIMARY KEY(`merchant_id`, `livemode`),
	FOREIGN KEY (`merchant_id`) REFERENCES `merchants`(`id`) ON UPDATE no action ON DELETE no action
);
